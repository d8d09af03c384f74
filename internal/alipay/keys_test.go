package alipay

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pemBody is the base64 body of a PEM file without its armor, in one line:
// how Alipay's key tool and open platform hand keys out.
func pemBody(t testing.TB, name string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(readTestdata(t, name), "\n") {
		if l != "" && !strings.HasPrefix(l, "-----") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "")
}

// tempFile writes s to a file in a test's temporary directory.
func tempFile(t testing.TB, s string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParsePrivateKey(t *testing.T) {
	want := appKey(t)
	tests := []struct {
		name    string
		in      func(t testing.TB) string
		wantErr error
		wantMsg string // in the error
	}{
		{name: "PKCS#1 PEM text", in: func(t testing.TB) string { return readTestdata(t, "app_pkcs1.pem") }},
		{name: "PKCS#8 PEM text", in: func(t testing.TB) string { return readTestdata(t, "app_pkcs8.pem") }},
		{name: "PKCS#1 path", in: func(testing.TB) string { return testdata("app_pkcs1.pem") }},
		{name: "PKCS#8 path", in: func(testing.TB) string { return testdata("app_pkcs8.pem") }},
		{name: "PEM with CRLF and spaces around", in: func(t testing.TB) string {
			return "\n  " + strings.ReplaceAll(readTestdata(t, "app_pkcs8.pem"), "\n", "\r\n") + "  \n"
		}},
		{name: "bare PKCS#8 base64", in: func(t testing.TB) string { return pemBody(t, "app_pkcs8.pem") }},
		{name: "bare PKCS#1 base64", in: func(t testing.TB) string { return pemBody(t, "app_pkcs1.pem") }},
		{name: "bare base64 in lines", in: func(t testing.TB) string {
			s := readTestdata(t, "app_pkcs8.pem")
			return s[strings.Index(s, "\n")+1 : strings.Index(s, "-----END")]
		}},
		{name: "file of bare base64", in: func(t testing.TB) string { return tempFile(t, pemBody(t, "app_pkcs8.pem")+"\n") }},

		{name: "empty", in: func(testing.TB) string { return " \n" }, wantErr: ErrBadKey, wantMsg: "empty"},
		{name: "missing file", in: func(testing.TB) string { return "/nonexistent/app.pem" }, wantErr: ErrBadKey, wantMsg: "no such file"},
		{name: "not base64", in: func(testing.TB) string { return "MIIEvQ-not-a-key" }, wantErr: ErrBadKey, wantMsg: "base64"},
		{name: "base64 of garbage", in: func(testing.TB) string { return "aGVsbG8gd29ybGQ=" }, wantErr: ErrBadKey, wantMsg: "PKCS#8"},
		{name: "file of garbage", in: func(t testing.TB) string { return tempFile(t, "hello, world") }, wantErr: ErrBadKey, wantMsg: "key file"},
		{name: "public key PEM", in: func(t testing.TB) string { return readTestdata(t, "app_public.pem") }, wantErr: ErrBadKey, wantMsg: "not a private key"},
		{name: "bare public key", in: func(t testing.TB) string { return pemBody(t, "app_public.pem") }, wantErr: ErrBadKey, wantMsg: "public key"},
		{name: "EC key", in: func(testing.TB) string { return testdata("ec_pkcs8.pem") }, wantErr: ErrBadKey, wantMsg: "ECDSA"},
		{name: "1024 bits", in: func(testing.TB) string { return testdata("weak_1024.pem") }, wantErr: ErrWeakKey, wantMsg: "1024"},
		{name: "encrypted", in: func(testing.TB) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}))
		}, wantErr: ErrBadKey, wantMsg: "encrypted"},
		{name: "truncated PEM", in: func(t testing.TB) string {
			s := readTestdata(t, "app_pkcs1.pem")
			return s[:len(s)/2] + "\n-----END RSA PRIVATE KEY-----\n"
		}, wantErr: ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKey(tt.in(t))
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("ParsePrivateKey: err = %v, want %v with %q", err, tt.wantErr, tt.wantMsg)
			}
			if err == nil && !got.Equal(want) {
				t.Errorf("ParsePrivateKey: got another key than app_pkcs1.pem")
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	want := &appKey(t).PublicKey
	tests := []struct {
		name    string
		in      func(t testing.TB) string
		wantErr error
		wantMsg string
	}{
		{name: "PKIX PEM text", in: func(t testing.TB) string { return readTestdata(t, "app_public.pem") }},
		{name: "PKCS#1 PEM text", in: func(t testing.TB) string { return readTestdata(t, "app_public_pkcs1.pem") }},
		{name: "PKIX path", in: func(testing.TB) string { return testdata("app_public.pem") }},
		{name: "PKCS#1 path", in: func(testing.TB) string { return testdata("app_public_pkcs1.pem") }},
		{name: "bare PKIX base64", in: func(t testing.TB) string { return pemBody(t, "app_public.pem") }},
		{name: "bare PKCS#1 base64", in: func(t testing.TB) string { return pemBody(t, "app_public_pkcs1.pem") }},
		{name: "file of bare base64", in: func(t testing.TB) string { return tempFile(t, pemBody(t, "app_public.pem")) }},

		{name: "empty", in: func(testing.TB) string { return "" }, wantErr: ErrBadKey, wantMsg: "empty"},
		{name: "missing file", in: func(testing.TB) string { return "/nonexistent/alipay_public.pem" }, wantErr: ErrBadKey, wantMsg: "no such file"},
		{name: "private key PEM", in: func(t testing.TB) string { return readTestdata(t, "app_pkcs1.pem") }, wantErr: ErrBadKey, wantMsg: "private key"},
		{name: "bare private key", in: func(t testing.TB) string { return pemBody(t, "app_pkcs8.pem") }, wantErr: ErrBadKey, wantMsg: "private key"},
		{name: "certificate", in: func(testing.TB) string {
			return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}))
		}, wantErr: ErrBadKey, wantMsg: "public-key mode"},
		{name: "1024 bits", in: func(testing.TB) string { return testdata("weak_1024_public.pem") }, wantErr: ErrWeakKey, wantMsg: "1024"},
		{name: "base64 of garbage", in: func(testing.TB) string { return "aGVsbG8gd29ybGQ=" }, wantErr: ErrBadKey, wantMsg: "PKIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.in(t))
			if !errors.Is(err, tt.wantErr) || (err != nil && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("ParsePublicKey: err = %v, want %v with %q", err, tt.wantErr, tt.wantMsg)
			}
			if err == nil && !got.Equal(want) {
				t.Errorf("ParsePublicKey: got another key than app_public.pem")
			}
		})
	}
}
