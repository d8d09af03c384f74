package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/meiduo/shop/internal/testenv"
)

// pickRegion chooses a province, a city and a district in the address
// form's cascading selects, waiting for each list to load.
func pickRegion(ids ...int64) chromedp.Action {
	levels := []string{"province", "city", "district"}
	var tasks chromedp.Tasks
	for i, id := range ids {
		sel := "#f-" + levels[i]
		var ok bool
		tasks = append(tasks,
			chromedp.ActionFunc(func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				err := chromedp.Poll(fmt.Sprintf(`!document.querySelector(%q).disabled && !!document.querySelector('%s option[value="%d"]')`, sel, sel, id),
					&ok, chromedp.WithPollingInterval(50*time.Millisecond)).Do(ctx)
				if err != nil {
					return fmt.Errorf("poll %s for %d: %w", sel, id, err)
				}
				return nil
			}),
			chromedp.SetValue(sel, strconv.FormatInt(id, 10))) // it fires input and change
	}
	return tasks
}

// consoleWatch records a tab's console errors, uncaught exceptions and
// failed loads (the browser's log), from now on.
type consoleWatch struct {
	mu   sync.Mutex
	errs []string
}

func watchConsole(t *testing.T, b *browserShop, ctx context.Context) *consoleWatch {
	t.Helper()
	w := &consoleWatch{}
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				msg = "console.error"
				for _, a := range e.Args {
					msg += " " + string(a.Value)
				}
			}
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				msg = "log: " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" {
			w.mu.Lock()
			w.errs = append(w.errs, msg)
			w.mu.Unlock()
		}
	})
	b.do(t, ctx, log.Enable())
	return w
}

// forget drops the errors seen so far that contain all of the parts: a
// refusal the test caused on purpose (the browser logs every 4xx).
func (w *consoleWatch) forget(parts ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.errs[:0]
	for _, e := range w.errs {
		match := true
		for _, p := range parts {
			match = match && strings.Contains(e, p)
		}
		if !match {
			kept = append(kept, e)
		}
	}
	w.errs = kept
}

// check fails the test for every error seen so far, and for any broken
// image on the page now.
func (w *consoleWatch) check(t *testing.T, b *browserShop, ctx context.Context, page string) {
	t.Helper()
	var broken []string
	b.do(t, ctx, chromedp.Evaluate(`[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)`, &broken))
	for _, src := range broken {
		t.Errorf("%s: broken image %s", page, src)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.errs {
		t.Errorf("%s: %s", page, e)
	}
	w.errs = nil
}

// TestBrowserAddressesAndSettlement: the region selects cascade, a refused
// field says why next to itself and takes the focus, each action says
// what it did, and the settlement page fits 360, 390 and 1366 pixels and
// commits on a phone.
func TestBrowserAddressesAndSettlement(t *testing.T) {
	b := startBrowserShop(t)
	u := testenv.CreateUser(t, b.store, "picker01")
	tab := b.tab(t)
	console := watchConsole(t, b, tab)
	b.login(t, tab, "picker01", testenv.Password)
	// The message an action leaves, on the page it comes back to.
	const done = `#address-msg.msg-ok`

	b.do(t, tab, chromedp.EmulateViewport(1366, 900), b.open("/addresses/", `#f-receiver`),
		chromedp.SendKeys(`#f-receiver`, "王五"), chromedp.SendKeys(`#f-mobile`, "13800138000"))
	b.do(t, tab, pickRegion(440000, 440300, 440305))
	b.do(t, tab,
		chromedp.SendKeys(`#f-place`, "科技园 1 号"), chromedp.SendKeys(`#f-tel`, "12345"),
		chromedp.Click(`[data-testid="address-save"]`), waitText(`[data-testid="error-tel"]`, "固定电话"))
	b.check(t, "error next to the telephone", b.text(t, tab, `[data-testid="error-tel"]`), "固定电话格式不正确，例如 010-62345678")
	b.check(t, "form message", b.text(t, tab, `[data-testid="address-form-msg"]`), "地址没有保存：请修改标出的项目")
	var focused string
	b.do(t, tab, chromedp.Evaluate(`document.activeElement.id`, &focused))
	b.check(t, "focus after the refusal", focused, "f-tel")
	b.shot(t, tab, "address-field-error")
	console.forget("status of 400", "/addresses/create/")

	b.do(t, tab, chromedp.Evaluate(`document.querySelector("#f-tel").value = ""`, nil), chromedp.Click(`[data-testid="address-save"]`),
		chromedp.WaitVisible(done))
	b.check(t, "message after saving", b.text(t, tab, done), "新地址已保存")
	b.check(t, "saved region", b.text(t, tab, `[data-testid="address"] .address-fields dd:nth-of-type(2)`), "广东省 深圳市 南山区 科技园 1 号")
	b.shot(t, tab, "address-saved")
	console.check(t, b, tab, "address book")

	// Editing restores the three selects; another district is saved.
	b.do(t, tab, b.open("/addresses/", `[data-testid="address-edit"]`), chromedp.Click(`[data-testid="address-edit"]`))
	var district string
	var restored bool
	b.do(t, tab, chromedp.Poll(`document.querySelector("#f-district").value === "440305"`, &restored, chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Value(`#f-city`, &district))
	b.check(t, "city when editing", district, "440300")
	b.do(t, tab, pickRegion(440000, 440300, 440304), chromedp.Click(`[data-testid="address-save"]`), chromedp.WaitVisible(done))
	b.check(t, "message after editing", b.text(t, tab, done), "地址已更新")
	b.check(t, "edited region", b.text(t, tab, `[data-testid="address"] .address-fields dd:nth-of-type(2)`), "广东省 深圳市 福田区 科技园 1 号")

	// A second address: make it the default, then delete it.
	second := testenv.CreateAddress(t, b.store, u.ID)
	card := fmt.Sprintf(`[data-testid="address"][data-id="%d"]`, second.ID)
	b.do(t, tab, b.open("/addresses/", card), chromedp.Click(card+` [data-testid="address-set-default"]`), chromedp.WaitVisible(done))
	b.check(t, "message after the default", b.text(t, tab, done), "已设为默认地址，下单时会自动选中它")
	b.check(t, "default badge", b.text(t, tab, card+` [data-testid="default-badge"]`), "默认地址")
	b.do(t, tab, b.open("/addresses/", card), chromedp.Click(card+` [data-testid="address-delete"]`), chromedp.WaitVisible(done))
	b.check(t, "message after the delete", b.text(t, tab, done), "地址已删除")
	if n := b.count(t, tab, `[data-testid="address"]`); n != 1 {
		t.Errorf("%d addresses after the delete, want 1", n)
	}

	b.do(t, tab, chromedp.EmulateViewport(360, 740), b.open("/addresses/", `#f-receiver`))
	b.noSideScroll(t, tab, "address book")
	b.shot(t, tab, "addresses-360")
	b.do(t, tab, chromedp.Navigate(b.base+"/lang/?to=en&next=/addresses/"), chromedp.WaitVisible(`#f-receiver`))
	b.check(t, "region label in English", b.text(t, tab, `label[for="f-province"]`), "Province")
	b.noSideScroll(t, tab, "address book in English")
	b.shot(t, tab, "addresses-360-en")
	b.do(t, tab, chromedp.Navigate(b.base+"/lang/?to=zh&next=/addresses/"), chromedp.WaitVisible(`#f-receiver`))

	b.addToCart(t, tab, demoEdifier)
	for _, w := range []struct{ width, height int64 }{{1366, 900}, {360, 740}, {390, 844}} {
		b.do(t, tab, chromedp.EmulateViewport(w.width, w.height), b.open("/orders/settlement/", `[data-testid="commit-order"]`))
		b.noSideScroll(t, tab, "settlement")
		b.shot(t, tab, fmt.Sprintf("settlement-%d", w.width))
	}
	// At 390 wide: the commit button is reached and works.
	b.do(t, tab, chromedp.ScrollIntoView(`[data-testid="commit-order"]`), chromedp.Click(`[data-testid="commit-order"]`),
		chromedp.WaitVisible(`[data-testid="order-success"]`))
	b.noSideScroll(t, tab, "order success")
	console.check(t, b, tab, "settlement and order success")
	b.shot(t, tab, "order-success-390")
}
