package templates

import (
	"testing"
	"time"
)

func TestCountdownText(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "00:00:00"},
		{-time.Minute, "00:00:00"},
		{59*time.Minute + 59*time.Second + 900*time.Millisecond, "00:59:59"},
		{23*time.Hour + 2*time.Minute + 3*time.Second, "23:02:03"},
		{50*time.Hour + 4*time.Second, "2d 02:00:04"},
	} {
		if got := countdownText(tc.in); got != tc.want {
			t.Errorf("countdownText(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCategoryLinkURL(t *testing.T) {
	if got := (CategoryLink{ID: 7}).URL(); got != "/list/7/1/" {
		t.Errorf("URL = %q, want /list/7/1/", got)
	}
	if got := (CategoryLink{ID: 7, Href: "/search/?q=x"}).URL(); got != "/search/?q=x" {
		t.Errorf("URL with Href = %q", got)
	}
}
