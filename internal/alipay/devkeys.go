package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DevKeys are the two key pairs of the development gateway. App stands for
// the shop's key pair: a Client signs with App and the DevGateway verifies
// with its public half. Gateway stands for Alipay's: the DevGateway signs
// with it and a Client verifies with its public half.
type DevKeys struct {
	App     *rsa.PrivateKey
	Gateway *rsa.PrivateKey
}

// Files of LoadOrCreateDevKeys, in its dir.
const (
	DevAppKeyFile     = "alipay-dev-app.pem"
	DevGatewayKeyFile = "alipay-dev-gateway.pem"
)

// LoadOrCreateDevKeys reads the development key pairs from dir
// (DevAppKeyFile and DevGatewayKeyFile, PKCS#8 PEM), first generating a
// 2048-bit pair for each file that does not exist. dir is created if
// needed (0700) and the files are written 0600, whole or not at all: each
// goes to a temporary file that is then linked (or, on a file system
// without hard links, renamed) into place. Linking never replaces a file,
// so processes starting together all end up with the same keys.
//
// A file that exists but holds no usable key is an error, not replaced:
// delete it to start afresh, and restart whatever uses the keys.
func LoadOrCreateDevKeys(dir string) (*DevKeys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("development Alipay keys: %w", err)
	}
	app, err := loadOrCreateKey(filepath.Join(dir, DevAppKeyFile))
	if err != nil {
		return nil, fmt.Errorf("development Alipay keys: %w", err)
	}
	gw, err := loadOrCreateKey(filepath.Join(dir, DevGatewayKeyFile))
	if err != nil {
		return nil, fmt.Errorf("development Alipay keys: %w", err)
	}
	return &DevKeys{App: app, Gateway: gw}, nil
}

func loadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key, err = rsa.GenerateKey(rand.Reader, minKeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := writeTemp(filepath.Dir(path), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	switch {
	case err == nil:
		return key, nil
	case errors.Is(err, fs.ErrExist):
		return loadKey(path) // another process was first
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

func loadKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// writeTemp writes b to a new file of mode 0600 in dir, synced, and
// returns its name.
func writeTemp(dir string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".alipay-dev-*.tmp")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}
