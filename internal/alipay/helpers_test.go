package alipay

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"
)

func testdata(name string) string { return filepath.Join("testdata", name) }

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// appKey is the shop's test key.
func appKey(t testing.TB) *rsa.PrivateKey { return privateKey(t, "app_pkcs1.pem") }

func privateKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := ParsePrivateKey(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
