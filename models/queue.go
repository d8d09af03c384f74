package models

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// StrategyQueue: the Celery-with-one-worker answer of SEEDS.md §1. Buyers'
// requests are checked where they arrive (prepare) and their commits wait
// in a bounded queue for the one worker, which takes every commit waiting
// at that moment (up to BatchSize) and writes them in one transaction, each
// in its own savepoint. No two commits of this process ever contend for a
// row, and one fsync serves a whole batch.

// jobTimeout bounds the worker's work on one batch. Once the worker has
// started a job, the buyer waits for its result, so this also bounds that
// wait.
const jobTimeout = 5 * time.Second

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

// enqueue hands a plan to the worker and waits for its result. A job that
// the worker has not started when ctx ends is dropped, and the worker skips
// it: no order is made for a buyer who was already told it failed.
func (o *Orders) enqueue(ctx context.Context, p *plan) result {
	j := &job{ctx: ctx, plan: p, done: make(chan result, 1)}
	select {
	case <-o.stopped:
		return result{err: fmt.Errorf("%w: the order queue is stopped", ErrBusy)}
	default:
	}
	select {
	case o.queue <- j:
	default:
		return result{err: fmt.Errorf("%w: the order queue is full (%d waiting)", ErrBusy, cap(o.queue))}
	}
	select {
	case r := <-j.done:
		return r
	case <-ctx.Done():
	case <-o.stopped:
	}
	if j.state.CompareAndSwap(jobWaiting, jobDropped) {
		if ctx.Err() != nil {
			return result{err: busy(ctx, errors.New("still waiting in the order queue"))}
		}
		return result{err: fmt.Errorf("%w: the order queue stopped", ErrBusy)}
	}
	return <-j.done
}

// Run is the queue worker of StrategyQueue: it commits queued orders until
// ctx is done, then finishes the batch in hand, answers every job still
// waiting with ErrBusy, and returns nil. For the other strategies it
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
			j.done <- result{err: busy(j.ctx, errors.New("gave up in the order queue"))}
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
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
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
				j.done <- result{err: fmt.Errorf("%w: the order queue stopped", ErrBusy)}
			}
		default:
			return
		}
	}
}
