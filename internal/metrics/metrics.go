// Package metrics is the shop's Prometheus instrumentation: a private
// registry (never the default one), the HTTP middleware, the observers that
// the order commit and the flash sale report to, and collectors that read
// the database pool, the Redis pool and the flash-sale streams when
// scraped. main builds one Metrics and serves Handler on SHOP_METRICS_ADDR,
// a listener of its own, never on the public router.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/internal/seckill"
)

// Metrics holds the registry and the shop's own metrics. Build it with New.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // route, method, status
	latency  *prometheus.HistogramVec // route, method

	placed    *prometheus.CounterVec   // strategy, outcome
	commits   *prometheus.CounterVec   // strategy
	groupSize *prometheus.HistogramVec // strategy
	retries   *prometheus.CounterVec   // strategy

	decisions *prometheus.CounterVec // outcome
	lag       prometheus.Histogram
	failed    prometheus.Counter

	expired prometheus.Counter
}

// New returns the metrics on a fresh registry, with the Go runtime's and
// the process's collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_http_requests_total",
		Help: "HTTP requests answered, by route pattern (gin's FullPath; unmatched for none), method and status."},
		[]string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shop_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and method.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"route", "method"})
	m.placed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_order_placed_total",
		Help: "Order commits answered, by stock strategy and outcome: ok, out_of_stock, busy (503) or refused."},
		[]string{"strategy", "outcome"})
	m.commits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_order_commit_transactions_total",
		Help: "Order-commit transactions committed, by stock strategy."}, []string{"strategy"})
	m.groupSize = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "shop_order_commit_group_size",
		Help:    "Orders in one committed order-commit transaction (group commit, the queue's batches).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}, []string{"strategy"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_order_commit_retries_total",
		Help: "Order-commit transactions run again after a deadlock, serialization failure, busy database or lost connection."},
		[]string{"strategy"})
	m.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "shop_seckill_decisions_total",
		Help: "Flash-sale buys decided in Redis, by outcome: ok, sold_out, limit, not_started, ended, no_sale, busy, error."},
		[]string{"outcome"})
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "shop_seckill_persist_lag_seconds",
		Help:    "Flash-sale orders written, by the time from Redis's decision to the database COMMIT.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}})
	m.failed = prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_seckill_failed_orders_total",
		Help: "Flash-sale orders the database refused for good (their buyers are told why)."})
	m.expired = prometheus.NewCounter(prometheus.CounterOpts{Name: "shop_unpaid_orders_expired_total",
		Help: "Unpaid online orders canceled by the expiry, their stock returned."})
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.placed, m.commits, m.groupSize, m.retries,
		m.decisions, m.lag, m.failed, m.expired} {
		f(c)
	}
	return m
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Gin counts and times every request by its route pattern, so that ids in
// paths do not make a series each.
func (m *Metrics) Gin() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		method := c.Request.Method
		m.requests.WithLabelValues(route, method, strconv.Itoa(c.Writer.Status())).Inc()
		m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	}
}

// Expired counts orders the unpaid-order expiry canceled.
func (m *Metrics) Expired(n int) { m.expired.Add(float64(n)) }

// Orders is the order commit's observer (order.Observer) for one stock
// strategy. commits reports the commits waiting for a turn and those
// committing now (order.Orders.Waiting and Committing).
func (m *Metrics) Orders(strategy string, waiting, committing func() int) *OrderObserver {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "shop_order_commit_waiting",
		Help: "Order commits waiting for a turn (they go in the next group)."}, func() float64 { return float64(waiting()) }))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "shop_order_commit_running",
		Help: "Order-commit transactions running now."}, func() float64 { return float64(committing()) }))
	return &OrderObserver{
		placed: func(outcome string) prometheus.Counter { return m.placed.WithLabelValues(strategy, outcome) },
		commit: m.commits.WithLabelValues(strategy), size: m.groupSize.WithLabelValues(strategy), retries: m.retries.WithLabelValues(strategy),
	}
}

// OrderObserver satisfies order.Observer.
type OrderObserver struct {
	placed  func(outcome string) prometheus.Counter
	commit  prometheus.Counter
	size    prometheus.Observer
	retries prometheus.Counter
}

// Placed counts one PlaceOrder answer.
func (o *OrderObserver) Placed(outcome string) { o.placed(outcome).Inc() }

// Committed counts one committed transaction, its orders and its reruns.
func (o *OrderObserver) Committed(orders, retries int) {
	o.commit.Inc()
	o.size.Observe(float64(orders))
	o.retries.Add(float64(retries))
}

// Seckill is the flash sale's observer (seckill.Observer).
func (m *Metrics) Seckill() *SeckillObserver { return &SeckillObserver{m} }

// SeckillObserver satisfies seckill.Observer.
type SeckillObserver struct{ m *Metrics }

// Decided counts one buy by outcome.
func (s *SeckillObserver) Decided(outcome string) { s.m.decisions.WithLabelValues(outcome).Inc() }

// Persisted records one written order's persistence lag.
func (s *SeckillObserver) Persisted(lag time.Duration) { s.m.lag.Observe(lag.Seconds()) }

// Failed counts orders refused for good.
func (s *SeckillObserver) Failed(n int) { s.m.failed.Add(float64(n)) }

// WatchDB reports the database pool's statistics (sql.DBStats) as the
// go_sql_* metrics, labelled db_name.
func (m *Metrics) WatchDB(name string, db *sql.DB) {
	m.reg.MustRegister(collectors.NewDBStatsCollector(db, name))
}

// WatchRedis reports the Redis client's pool statistics.
func (m *Metrics) WatchRedis(rdb *redis.Client) {
	m.reg.MustRegister(&redisPool{rdb: rdb,
		hits:     prometheus.NewDesc("shop_redis_pool_hits_total", "Times a free connection was found in the Redis pool.", nil, nil),
		misses:   prometheus.NewDesc("shop_redis_pool_misses_total", "Times no free connection was in the Redis pool.", nil, nil),
		timeouts: prometheus.NewDesc("shop_redis_pool_timeouts_total", "Times waiting for a Redis connection timed out.", nil, nil),
		conns:    prometheus.NewDesc("shop_redis_pool_connections", "Connections in the Redis pool, by state (total, idle).", []string{"state"}, nil),
	})
}

// WatchSeckill reports every live sale's stream length and pending
// entries, read from Redis at each scrape (within 2 s).
func (m *Metrics) WatchSeckill(e *seckill.Engine) {
	m.reg.MustRegister(&streams{e: e,
		length:  prometheus.NewDesc("shop_seckill_stream_length", "Entries in a live flash sale's stream.", []string{"sku"}, nil),
		pending: prometheus.NewDesc("shop_seckill_pending_entries", "A live flash sale's stream entries read by a consumer and not yet acknowledged.", []string{"sku"}, nil),
		up:      prometheus.NewDesc("shop_seckill_streams_up", "1 if the flash-sale streams could be read from Redis at this scrape.", nil, nil),
	})
}

// redisPool collects go-redis's pool statistics at each scrape.
type redisPool struct {
	rdb                           *redis.Client
	hits, misses, timeouts, conns *prometheus.Desc
}

func (r *redisPool) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.hits
	ch <- r.misses
	ch <- r.timeouts
	ch <- r.conns
}

func (r *redisPool) Collect(ch chan<- prometheus.Metric) {
	s := r.rdb.PoolStats()
	ch <- prometheus.MustNewConstMetric(r.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(r.misses, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(r.timeouts, prometheus.CounterValue, float64(s.Timeouts))
	ch <- prometheus.MustNewConstMetric(r.conns, prometheus.GaugeValue, float64(s.TotalConns), "total")
	ch <- prometheus.MustNewConstMetric(r.conns, prometheus.GaugeValue, float64(s.IdleConns), "idle")
}

// streams collects the live flash sales' streams at each scrape.
type streams struct {
	e                   *seckill.Engine
	length, pending, up *prometheus.Desc
}

func (s *streams) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.length
	ch <- s.pending
	ch <- s.up
}

func (s *streams) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	bl, err := s.e.Backlogs(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(s.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(s.up, prometheus.GaugeValue, 1)
	for _, b := range bl {
		sku := strconv.FormatInt(b.SKUID, 10)
		ch <- prometheus.MustNewConstMetric(s.length, prometheus.GaugeValue, float64(b.Length), sku)
		ch <- prometheus.MustNewConstMetric(s.pending, prometheus.GaugeValue, float64(b.Pending), sku)
	}
}
