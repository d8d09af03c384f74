package web

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// recovery turns a panic into a logged 500.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(c.Request.Context(), "panic", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"code": 500, "errmsg": "internal error"})
				}
			}
		}()
		c.Next()
	}
}

// requestLog logs each request once it is answered.
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		lvl := slog.LevelInfo
		if status >= 500 {
			lvl = slog.LevelError
		}
		if !log.Enabled(c.Request.Context(), lvl) {
			return // nor work out the client's address for nothing
		}
		log.Log(c.Request.Context(), lvl, "http", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", status, "ms", float64(time.Since(start).Microseconds())/1000, "ip", c.ClientIP())
	}
}

// securityHeaders sets the headers every answer carries, before anything
// answers: gin, a CSRF failure, a body over the limit. The CSP allows only
// this site's own scripts and styles: templates hold no inline code. With
// hsts (SHOP_SECURE_COOKIES=true, so served over TLS) browsers keep to
// HTTPS for a year. No answer is cached unless staticCache says so.
func securityHeaders(hsts bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// staticCache lets browsers keep embedded assets for an hour.
func staticCache(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Next()
}

// noStore undoes staticCache for a miss under /static/, which gin answers
// with the NoRoute handlers: the shop's 404 page is not to be kept.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}

// filesOnly is a file system whose directories do not exist, so that
// http.FileServer answers 404 for them instead of listing them.
type filesOnly struct{ fs http.FileSystem }

func (f filesOnly) Open(name string) (http.File, error) {
	file, err := f.fs.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// limitBody refuses bodies over max bytes with 413 before anything reads
// them (the CSRF check parses forms), and caps chunked bodies too. A
// multipart POST to a path matching a pattern in uploads may send up to
// that pattern's limit instead.
func limitBody(max int64, uploads map[string]int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		max := max
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			for pattern, n := range uploads {
				if ok, _ := path.Match(pattern, r.URL.Path); ok {
					max = n
				}
			}
		}
		if r.ContentLength > max {
			if strings.Contains(r.Header.Get("Content-Type"), "json") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusRequestEntityTooLarge)
				fmt.Fprintf(w, `{"code":413,"errmsg":"request body over %d bytes"}`, max)
				return
			}
			http.Error(w, fmt.Sprintf("request body over %d bytes", max), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}
