package order

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/meiduo/shop/models"
)

// Commits that cannot start a transaction at once wait in a batch, and one
// transaction writes the batch (commit.go). Two paths gather them:
//
//   - Group commit (StrategyOptimistic, StrategyConditional): a buyer's
//     commit joins the commits waiting for a turn; whoever gets a turn
//     takes every commit waiting at that moment (up to BatchSize) and
//     writes them together. Nobody waits for a group to fill: a commit
//     that finds a turn free goes alone, and commits gather only while
//     every turn is busy, which is when one hot SKU makes them queue on
//     its row lock anyway. A group then pays for one transaction, one
//     fsync, one hot-row lock and a handful of statements, instead of each
//     commit paying for its own.
//   - The queue (StrategyQueue), the Celery-with-one-worker answer: commits
//     wait in a bounded queue for the one worker (Run), which takes every
//     commit waiting at that moment (up to BatchSize). No two commits of
//     this process ever contend for a row.

// maxGroupLines bounds the order lines of one batch, and so the size of
// its statements (placeholders are limited: 32,766 in SQLite, 65,535 in
// PostgreSQL and MySQL; a line takes 10).
const maxGroupLines = 512

// Job states. Whoever moves a job out of jobWaiting decides its fate: the
// worker (to jobRunning, or to jobDropped when the buyer's context is
// done), which then always sends a result; or the buyer giving up (to
// jobDropped), who then reads no result.
const (
	jobWaiting int32 = iota
	jobRunning
	jobDropped
)

type job struct {
	ctx   context.Context
	plan  *plan
	state atomic.Int32
	done  chan result // buffered: the worker never blocks on a gone buyer
}

// together places a plan in a group commit and waits for its result. A
// commit still waiting when ctx ends is dropped, and no order is made for
// it; one that a group has taken is answered when the group commits.
func (o *Orders) together(ctx context.Context, p *plan) result {
	j := &job{ctx: ctx, plan: p, done: make(chan result, 1)}
	o.mu.Lock()
	o.waiting = append(o.waiting, j)
	o.mu.Unlock()
	select {
	case r := <-j.done:
		return r
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobWaiting, jobDropped) {
			return result{err: models.Busy(ctx, errors.New("still waiting for a commit turn"))}
		}
		return <-j.done
	case o.turns <- struct{}{}:
		// This group holds j unless another took it first; either way j
		// is answered by the time this group is done, or soon after.
		o.work(o.gather(), true)
		<-o.turns
		return <-j.done
	}
}

// gather takes the commits waiting now, oldest first, up to BatchSize and
// maxGroupLines, skipping (and answering) those whose buyer is gone.
func (o *Orders) gather() []*job {
	o.mu.Lock()
	defer o.mu.Unlock()
	var batch []*job
	n, lines := 0, 0
	for _, j := range o.waiting {
		if len(batch) == o.batch || (len(batch) > 0 && lines+len(j.plan.lines) > maxGroupLines) {
			break
		}
		n++
		before := len(batch)
		if batch = o.take(batch, j); len(batch) > before {
			lines += len(j.plan.lines)
		}
	}
	clear(o.waiting[:n])
	o.waiting = o.waiting[n:]
	return batch
}

// enqueue hands a plan to the worker and waits for its result. A job that
// the worker has not started when ctx ends is dropped, and the worker skips
// it: no order is made for a buyer who was already told it failed.
func (o *Orders) enqueue(ctx context.Context, p *plan) result {
	j := &job{ctx: ctx, plan: p, done: make(chan result, 1)}
	select {
	case <-o.stopped:
		return result{err: fmt.Errorf("%w: the order queue is stopped", models.ErrBusy)}
	default:
	}
	select {
	case o.queue <- j:
	default:
		return result{err: fmt.Errorf("%w: the order queue is full (%d waiting)", models.ErrBusy, cap(o.queue))}
	}
	select {
	case r := <-j.done:
		return r
	case <-ctx.Done():
	case <-o.stopped:
	}
	if j.state.CompareAndSwap(jobWaiting, jobDropped) {
		if ctx.Err() != nil {
			return result{err: models.Busy(ctx, errors.New("still waiting in the order queue"))}
		}
		return result{err: fmt.Errorf("%w: the order queue stopped", models.ErrBusy)}
	}
	return <-j.done
}

// Run is the queue worker of StrategyQueue: it commits queued orders until
// ctx is done, then finishes the batch in hand, answers every job still
// waiting with models.ErrBusy, and returns nil. For the other strategies it
// returns nil at once. Call it once, in its own goroutine.
func (o *Orders) Run(ctx context.Context) error {
	if o.strategy != StrategyQueue {
		return nil
	}
	if !o.started.CompareAndSwap(false, true) {
		return errors.New("orders: Run called twice")
	}
	stop := func() error {
		close(o.stopped)
		o.drain()
		return nil
	}
	for {
		if ctx.Err() != nil {
			return stop()
		}
		select {
		case <-ctx.Done():
			return stop()
		case j := <-o.queue:
			batch := o.take(nil, j)
		more:
			for len(batch) < o.batch {
				select {
				case j := <-o.queue:
					batch = o.take(batch, j)
				default:
					break more
				}
			}
			o.work(batch, false)
		}
	}
}

// Waiting is how many commits wait: in the queue (StrategyQueue), or for
// a turn to join a group commit (StrategyOptimistic, StrategyConditional);
// 0 for StrategyPessimistic.
func (o *Orders) Waiting() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue) + len(o.waiting)
}

// Committing is how many commit transactions are running now.
func (o *Orders) Committing() int { return len(o.turns) }

// take adds j to batch unless its buyer is gone.
func (o *Orders) take(batch []*job, j *job) []*job {
	if err := j.ctx.Err(); err != nil {
		if j.state.CompareAndSwap(jobWaiting, jobDropped) {
			j.done <- result{err: models.Busy(j.ctx, errors.New("gave up in the order queue"))}
		}
		return batch
	}
	if j.state.CompareAndSwap(jobWaiting, jobRunning) {
		batch = append(batch, j)
	}
	return batch
}

// work commits a batch and sends each job its result; held says the
// caller holds a turn. The batch's deadline is the worker's own: a buyer
// leaving now must not undo a commit that is under way.
func (o *Orders) work(batch []*job, held bool) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), models.TxTimeout)
	defer cancel()
	plans := make([]*plan, len(batch))
	for i, j := range batch {
		plans[i] = j.plan
	}
	for i, r := range o.commit(ctx, plans, held) {
		batch[i].done <- r
	}
}

// drain answers the jobs left in the queue after Run stopped.
func (o *Orders) drain() {
	for {
		select {
		case j := <-o.queue:
			if j.state.CompareAndSwap(jobWaiting, jobDropped) {
				j.done <- result{err: fmt.Errorf("%w: the order queue stopped", models.ErrBusy)}
			}
		default:
			return
		}
	}
}
