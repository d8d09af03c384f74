package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/meiduo/shop/migrations"
)

// TxTimeout bounds Transact when ctx has no deadline of its own.
const TxTimeout = 5 * time.Second

// Tx is one run of a transaction: the GORM handle bound to the caller's
// context, the dialect, and the time every row it writes carries.
type Tx struct {
	*gorm.DB
	Dialect migrations.Dialect
	// Now is fixed for the run: UTC, to the microsecond that every
	// dialect keeps.
	Now time.Time
	// Unsure is set when an earlier run's COMMIT lost its connection
	// before the answer came: that run may have committed. A writer whose
	// work must not happen twice looks for it first.
	Unsure bool
}

// Transact runs fn in one transaction and commits it; an error from fn
// rolls it back. It is the one transaction shape of the shop, and owns:
//
//   - the isolation level: READ COMMITTED on MySQL/MariaDB, whose default
//     REPEATABLE READ would have a retry re-read its first snapshot
//     forever (and takes gap locks that make concurrent inserts
//     deadlock); the others' default, READ COMMITTED, already is;
//   - the retries: a deadlock, a lock wait timeout, a serialization
//     failure, SQLite's busy database, and a dropped or refused
//     connection run the whole transaction again, on a fresh connection,
//     after a jittered pause; fn may run more than once;
//   - the caller's deadline (TxTimeout when ctx has none): out of time, it
//     returns ErrBusy. BEGIN and COMMIT run without ctx's cancellation, so
//     a deadline reached during COMMIT cannot leave written what the
//     caller was told failed; every statement inside obeys ctx;
//   - SQLite's write lock, which its BEGIN IMMEDIATE takes and waits for
//     up to the busy timeout whatever ctx says: there the wait is cut to
//     ctx's deadline;
//   - Tx.Now, fixed for the run.
//
// Errors from fn come back as fn returned them, wrapped by nothing.
func (s *DB) Transact(ctx context.Context, fn func(tx *Tx) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, TxTimeout)
		defer cancel()
	}
	unsure := false
	for attempt := 0; ; attempt++ {
		committing, err := s.run(ctx, fn, unsure)
		if err == nil {
			return nil
		}
		if !Transient(err) {
			if ctx.Err() != nil {
				return busy(ctx, err)
			}
			return err
		}
		if committing && lostConnection(err) {
			unsure = true
		}
		if err := pause(ctx, attempt); err != nil {
			return busy(ctx, errors.Join(err, fmt.Errorf("after %d tries", attempt+1)))
		}
	}
}

// RetryRead runs read, which only reads, and runs it again after a
// dropped connection or a busy database (Transient), with Transact's
// pauses, until ctx's deadline (TxTimeout when ctx has none): out of
// time, it returns ErrBusy. Other errors come back as read returned them.
// It is for the reads a writer makes before its transaction, which a
// connection the server ended would otherwise fail.
func RetryRead(ctx context.Context, read func(ctx context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, TxTimeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		err := read(ctx)
		switch {
		case err == nil:
			return nil
		case !Transient(err) && ctx.Err() != nil:
			return busy(ctx, err)
		case !Transient(err):
			return err
		}
		if perr := pause(ctx, attempt); perr != nil {
			return busy(ctx, errors.Join(err, fmt.Errorf("after %d tries", attempt+1)))
		}
	}
}

// run is one try of Transact. committing reports that fn succeeded and the
// error came from COMMIT.
func (s *DB) run(ctx context.Context, fn func(tx *Tx) error, unsure bool) (committing bool, err error) {
	var opts []*sql.TxOptions
	if s.dialect == migrations.MySQL {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	once := func(db *gorm.DB) error {
		tx := db.WithContext(context.WithoutCancel(ctx)).Begin(opts...)
		if tx.Error != nil {
			return tx.Error
		}
		done := false
		defer func() {
			if !done {
				tx.Rollback()
			}
		}()
		t := &Tx{DB: tx.WithContext(ctx), Dialect: s.dialect, Now: time.Now().UTC().Truncate(time.Microsecond), Unsure: unsure}
		if err := fn(t); err != nil {
			return err
		}
		done, committing = true, true
		return tx.Commit().Error
	}
	if s.dialect != migrations.SQLite {
		return committing, once(s.db)
	}
	// On this connection the wait for the write lock is cut to ctx's
	// deadline, then set back.
	err = s.db.WithContext(ctx).Connection(func(conn *gorm.DB) error {
		on := func() *gorm.DB { return conn.Session(&gorm.Session{NewDB: true}) }
		var was int
		if err := on().Raw("PRAGMA busy_timeout").Scan(&was).Error; err != nil {
			return err
		}
		deadline, _ := ctx.Deadline()
		wait := max(1, min(time.Until(deadline).Milliseconds(), int64(was)))
		if err := on().Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", wait)).Error; err != nil {
			return err
		}
		defer on().Session(&gorm.Session{Context: context.WithoutCancel(ctx)}).Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", was))
		return once(on())
	})
	return committing, err
}

// Transient reports an error that is nobody's fault and may pass if the
// whole transaction runs again: a conflict with another transaction (a
// deadlock, a lock wait timeout, a serialization failure, SQLite's busy
// database) or a connection to the database dropped or refused.
func Transient(err error) bool {
	return conflict(err) || lostConnection(err)
}

// conflict reports a deadlock, a lock wait timeout, a serialization
// failure, or SQLite's busy or locked database. MySQL discards every
// savepoint on a deadlock: only the whole transaction can run again.
func conflict(err error) bool {
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pe):
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	case errors.As(err, &me):
		return me.Number == 1213 || me.Number == 1205 // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
	case errors.As(err, &se):
		code := se.Code() & 0xff // the primary result code
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// lostConnection reports a connection to the database that was dropped,
// refused or killed: PostgreSQL's 57P01-57P03 (an administrator or a
// crash ended the backend) and class 08; MySQL's killed connection (1927),
// "server has gone away" (2006), lost connection (2013) and shutdown
// (1053); and the I/O errors a broken socket gives before any SQLSTATE.
// A transaction cut off this way was rolled back by the server, unless it
// was in its COMMIT (see Tx.Unsure).
func lostConnection(err error) bool {
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case errors.As(err, &me):
		return me.Number == 1927 || me.Number == 2006 || me.Number == 2013 || me.Number == 1053
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, mysql.ErrInvalidConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, sql.ErrConnDone):
		return true
	case errors.As(err, &ne):
		return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	// pgx reports a connection it already saw die as "conn closed".
	return strings.Contains(err.Error(), "conn closed")
}

// pause waits before try attempt+1: 2 ms doubling up to 128 ms, with full
// jitter so that the losers of a deadlock do not collide again.
func pause(ctx context.Context, attempt int) error {
	d := 2 * time.Millisecond << min(attempt, 6)
	return Sleep(ctx, time.Duration(rand.Int64N(int64(d)))+time.Millisecond)
}

// Sleep waits d, or until ctx is done, and then returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// busy says the caller ran out of time.
func busy(ctx context.Context, cause error) error {
	return fmt.Errorf("%w (%w): %v", ErrBusy, ctx.Err(), cause)
}

// Busy is busy for the packages under models: ErrBusy, with ctx's error
// and the cause.
func Busy(ctx context.Context, cause error) error { return busy(ctx, cause) }
