package handlers

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/models"
)

// A database or Redis that dropped the connection, as the drivers report
// it, is 503: never 500, and never a refusal.
func TestFailDependencyErrorsAre503(t *testing.T) {
	gin.SetMode(gin.TestMode)
	h := &Handlers{Deps: Deps{Log: slog.New(slog.DiscardHandler)}}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"pgx: backend terminated", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, 503},
		{"pgx: connection failure", &pgconn.PgError{Code: "08006"}, 503},
		{"pgx: conn closed", errors.New("conn closed"), 503},
		{"pgx: unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), 503},
		{"mysql: invalid connection", mysql.ErrInvalidConn, 503},
		{"mysql: connection killed", &mysql.MySQLError{Number: 1927}, 503},
		{"mysql: lost connection", &mysql.MySQLError{Number: 2013}, 503},
		{"database/sql: bad connection", driver.ErrBadConn, 503},
		{"database/sql: pool closed at shutdown", errors.New("sql: database is closed"), 503},
		{"out of time", fmt.Errorf("place order: %w", models.ErrBusy), 503},
		{"the cart is being checked out", errors.Join(&statusError{Status: http.StatusTooManyRequests}, carts.ErrLocked), 429},
		{"a bug", errors.New("something else"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/orders/commit/", nil)
			c.Request.Header.Set("Content-Type", "application/json")
			h.fail(c, fmt.Errorf("place order for user 1: %w", tc.err))
			if w.Code != tc.want {
				t.Errorf("%v answered %d, want %d: %s", tc.err, w.Code, tc.want, w.Body)
			}
		})
	}
}
