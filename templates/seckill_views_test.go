package templates

import (
	"testing"
	"time"
)

func TestSaleAdminPhase(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	hour := time.Hour
	tests := []struct {
		name       string
		open       bool
		start, end time.Time
		want       string
	}{
		{"starts tomorrow", true, now.Add(24 * hour), now.Add(25 * hour), SalePhaseUpcoming},
		{"starts in a second", true, now.Add(time.Second), now.Add(hour), SalePhaseUpcoming},
		{"starts now", true, now, now.Add(hour), SalePhaseLive},
		{"half way", true, now.Add(-hour), now.Add(hour), SalePhaseLive},
		{"ends now", true, now.Add(-hour), now, SalePhaseEnded},
		{"ended, not closed yet", true, now.Add(-2 * hour), now.Add(-hour), SalePhaseEnded},
		{"closed early", false, now.Add(-hour), now.Add(hour), SalePhaseEnded},
		{"closed before its start", false, now.Add(hour), now.Add(2 * hour), SalePhaseEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SaleAdminPhase(tt.open, tt.start, tt.end, now); got != tt.want {
				t.Errorf("SaleAdminPhase(open %v, %v, %v) = %q, want %q", tt.open, tt.start, tt.end, got, tt.want)
			}
		})
	}
}
