package alipay

import (
	"encoding/base64"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name    string
		params  url.Values
		skip    []string
		want    string
		wantErr error
	}{
		{
			// The example of Alipay's "sign it yourself" page.
			name: "request",
			params: url.Values{
				"app_id":      {"2014072300007148"},
				"method":      {"alipay.mobile.public.menu.add"},
				"charset":     {"GBK"},
				"sign_type":   {"RSA2"},
				"timestamp":   {"2014-07-24 03:07:50"},
				"biz_content": {`{"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"}]}`},
				"version":     {"1.0"},
				"sign":        {"ab+/=="},
			},
			skip: []string{"sign"},
			want: `app_id=2014072300007148&biz_content={"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"}]}&charset=GBK&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:50&version=1.0`,
		},
		{
			name: "notification: raw values, empty ones and sign_type left out",
			params: url.Values{
				"subject":        {"a&b=c d+e%20f"},
				"fund_bill_list": {`[{"amount":"1.00","fundChannel":"ALIPAYACCOUNT"}]`},
				"body":           {""},
				"sign_type":      {"RSA2"},
				"sign":           {"x"},
				"Z":              {"upper case sorts first"},
			},
			skip: []string{"sign", "sign_type"},
			want: `Z=upper case sorts first&fund_bill_list=[{"amount":"1.00","fundChannel":"ALIPAYACCOUNT"}]&subject=a&b=c d+e%20f`,
		},
		{name: "nothing", params: url.Values{"sign": {"x"}, "a": {""}, "b": nil}, skip: []string{"sign"}, want: ""},
		{name: "repeated", params: url.Values{"total_amount": {"1.00", "0.01"}}, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonical(tt.params, tt.skip...)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("canonical: err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("canonical:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// openssl returns the path of the openssl command, skipping the test
// without it.
func openssl(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	return path
}

// opensslSign signs content as `openssl dgst -sha256 -sign` does, in
// base64.
func opensslSign(t testing.TB, keyFile, content string) string {
	t.Helper()
	cmd := exec.Command(openssl(t), "dgst", "-sha256", "-sign", keyFile)
	cmd.Stdin = strings.NewReader(content)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl dgst -sign: %v %s", err, stderr(err))
	}
	return base64.StdEncoding.EncodeToString(out)
}

// opensslVerify checks sign with `openssl dgst -sha256 -verify`.
func opensslVerify(t testing.TB, pubFile, content, sign string) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		t.Fatal(err)
	}
	sigFile := filepath.Join(t.TempDir(), "sig")
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl(t), "dgst", "-sha256", "-verify", pubFile, "-signature", sigFile)
	cmd.Stdin = strings.NewReader(content)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("openssl dgst -verify: %v %s", err, out)
	}
}

func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}

// The request signature is what OpenSSL computes over the canonical
// string, with the key in either form, and OpenSSL verifies it.
func TestSignMatchesOpenSSL(t *testing.T) {
	c := testClient(t)
	raw, err := c.PagePayURL(PageOrder{OutTradeNo: "20240301043005000000001", TotalAmount: "1999.00",
		Subject: "iPhone 15 Pro & 保护壳 = 2 件", Timeout: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	params := u.Query()
	content, err := canonical(params, "sign")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"app_pkcs1.pem", "app_pkcs8.pem"} {
		if got, want := params.Get("sign"), opensslSign(t, testdata(key), content); got != want {
			t.Errorf("sign with %s:\n got %s\nwant %s (openssl)", key, got, want)
		}
	}
	opensslVerify(t, testdata("app_public.pem"), content, params.Get("sign"))
}

// A notification signed by OpenSSL, with parameters the shop never sent,
// verifies.
func TestVerifyOpenSSLSignature(t *testing.T) {
	params := testGateway(t).Notification(testRequest(), "2024030122001400000000000001", testNow)
	params.Del("sign")
	params.Set("voucher_detail_list", `[{"amount":"0.20","merchantContribute":"0.00","name":"5折券","otherContribute":"0.20","type":"ALIPAY_DISCOUNT_VOUCHER"}]`)
	params.Set("passback_params", "a=1&b=2")
	content, err := canonical(params, "sign", "sign_type")
	if err != nil {
		t.Fatal(err)
	}
	params.Set("sign", opensslSign(t, testdata("alipay_pkcs8.pem"), content))

	n, err := testClient(t).ParseNotification(viaQuery(t, params))
	if err != nil {
		t.Fatalf("ParseNotification: %v", err)
	}
	if !n.Paid() {
		t.Errorf("Paid() = false, want true")
	}
}
