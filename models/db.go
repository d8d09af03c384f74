package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/meiduo/shop/migrations"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrDuplicate     = errors.New("already exists")
	ErrInvalid       = errors.New("invalid")
	ErrOutOfStock    = errors.New("insufficient stock")
	ErrNotLaunched   = errors.New("sku not on sale")
	ErrEmptySelect   = errors.New("nothing selected")
	ErrTooMany       = errors.New("limit reached")
	ErrBadCredential = errors.New("wrong username or password")
	ErrBusy          = errors.New("too much contention, try again")
	ErrWrongStatus   = errors.New("not allowed in the order's status")
)

// StockError is ErrOutOfStock for one SKU: errors.Is(err, ErrOutOfStock)
// holds. Left is the stock seen when the change gave up.
type StockError struct {
	SKUID  int64
	Name   string
	Wanted int
	Left   int
}

func (e *StockError) Error() string {
	return fmt.Sprintf("sku %d (%s): %d wanted, %d left: %v", e.SKUID, e.Name, e.Wanted, e.Left, ErrOutOfStock)
}

func (e *StockError) Unwrap() error { return ErrOutOfStock }

// DB is the connection pool and its dialect. Every writer goes through
// its one transaction helper, Transact (tx.go).
type DB struct {
	db      *gorm.DB
	dialect migrations.Dialect
}

// Options tune Open.
type Options struct {
	MaxOpenConns int // 0 means a default that suits the dialect
	Logger       logger.Interface
}

// Open connects to the database named by rawURL:
//
//	sqlite:///relative/path.db, sqlite:////absolute/path.db
//	postgres://user:pass@host:port/db?sslmode=disable
//	mysql://user:pass@host:port/db
//
// It does not migrate; call Migrate.
func OpenDB(ctx context.Context, rawURL string, o Options) (*DB, error) {
	dial, d, conns, err := dialector(rawURL)
	if err != nil {
		return nil, err
	}
	if o.MaxOpenConns > 0 {
		conns = o.MaxOpenConns
	}
	lg := o.Logger
	if lg == nil {
		lg = logger.Discard
	}
	db, err := gorm.Open(dial, &gorm.Config{
		Logger:                 lg,
		SkipDefaultTransaction: true,
		TranslateError:         true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", d, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", d, err)
	}
	return &DB{db: db, dialect: d}, nil
}

// dialector turns a database URL into a GORM dialector and a pool size.
func dialector(rawURL string) (gorm.Dialector, migrations.Dialect, int, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", 0, fmt.Errorf("DATABASE_URL: %w", err)
	}
	switch u.Scheme {
	case "sqlite", "sqlite3":
		// dj-database-url convention: sqlite:///rel.db is relative,
		// sqlite:////abs.db is absolute.
		path := strings.TrimPrefix(rawURL, u.Scheme+"://")
		path = strings.TrimPrefix(path, "/")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return nil, "", 0, errors.New("DATABASE_URL: sqlite URL has no file path (want sqlite:///shop.db)")
		}
		// The driver is modernc.org/sqlite (pure Go, no cgo), under the GORM
		// dialector github.com/libtnb/sqlite, which is glebarez/sqlite's
		// code (unmaintained) kept up on modernc.org/sqlite itself. Chosen
		// over ncruces/go-sqlite3 + gormlite because modernc is the engine
		// glebarez was a fork of: same DSN options and the same time
		// format, written and parsed alike. With ncruces, times are either
		// written as RFC 3339 ("...05.5Z", which sorts wrong as text and
		// against rows already stored) or read strictly, and then goose's
		// own datetime('now') stamps fail to scan.
		//
		// WAL lets readers run beside the writer; _txlock=immediate takes
		// the write lock at BEGIN, so concurrent checkouts queue on the
		// busy timeout instead of failing with SQLITE_BUSY on upgrade.
		// The time options keep what glebarez did: write
		// "2006-01-02 15:04:05.999999999-07:00" (sorts as time does; SQL
		// compares create_time as text), read DATETIME text back as UTC,
		// and turn nothing else into time.Time.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		q.Set("_time_format", "sqlite")
		q.Set("_timezone", "UTC")
		q.Set("_texttotime", "0")
		q.Set("_inttotime", "0")
		return sqlite.Open("file:" + path + "?" + q.Encode()), migrations.SQLite, 4, nil
	case "postgres", "postgresql":
		return postgres.New(postgres.Config{DSN: rawURL}), migrations.Postgres, 16, nil
	case "mysql", "mariadb":
		dsn, err := mysqlDSN(u)
		if err != nil {
			return nil, "", 0, err
		}
		return mysql.Open(dsn), migrations.MySQL, 16, nil
	case "":
		return nil, "", 0, fmt.Errorf("DATABASE_URL %q has no scheme (want sqlite://, postgres:// or mysql://)", rawURL)
	default:
		return nil, "", 0, fmt.Errorf("DATABASE_URL: unsupported scheme %q (want sqlite, postgres or mysql)", u.Scheme)
	}
}

// mysqlDSN turns mysql://user:pass@host:port/db?x=y into the driver's DSN.
func mysqlDSN(u *url.URL) (string, error) {
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		return "", errors.New("DATABASE_URL: mysql URL names no database (want mysql://user:pass@host:3306/db)")
	}
	host := u.Host
	if u.Port() == "" {
		host += ":3306"
	}
	pass, _ := u.User.Password()
	q := u.Query()
	q.Set("parseTime", "true")
	q.Set("loc", "UTC")
	q.Set("charset", "utf8mb4")
	if q.Get("collation") == "" {
		q.Set("collation", "utf8mb4_unicode_ci")
	}
	// Multi-statement migrations need this.
	q.Set("multiStatements", "true")
	return fmt.Sprintf("%s:%s@tcp(%s)/%s?%s", u.User.Username(), pass, host, db, q.Encode()), nil
}

// Migrate applies pending migrations and returns what it applied.
func (s *DB) Migrate(ctx context.Context) ([]migrations.Result, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	return migrations.Up(ctx, sqlDB, s.dialect)
}

// Dialect reports which database this is.
func (s *DB) Dialect() migrations.Dialect { return s.dialect }

// Ping checks the database answers.
func (s *DB) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the pool.
func (s *DB) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// SQL exposes the pool for tools that check invariants with plain SQL.
func (s *DB) SQL() (*sql.DB, error) { return s.db.DB() }

// translate turns GORM errors into this package's sentinels.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	}
	return err
}

// Gorm is the pool for the packages under models (order, testkit), which
// build their own SQL. Everyone else goes through the domain stores.
func (s *DB) Gorm() *gorm.DB { return s.db }

// Translate turns GORM errors into this package's sentinels, for the
// packages under models.
func Translate(err error) error { return translate(err) }

// MigrationsPending reports whether a migration is not applied yet,
// without taking the migration lock.
func (s *DB) MigrationsPending(ctx context.Context) (bool, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	return migrations.HasPending(ctx, sqlDB, s.dialect)
}

// Migrations lists every migration of this binary, applied or not.
func (s *DB) Migrations(ctx context.Context) ([]migrations.State, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	return migrations.Status(ctx, sqlDB, s.dialect)
}

// MigrateTo migrates up or down to version (migrations.To).
func (s *DB) MigrateTo(ctx context.Context, version int64) ([]migrations.Result, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	return migrations.To(ctx, sqlDB, s.dialect, version)
}
