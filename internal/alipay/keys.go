package alipay

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// minKeyBits is the shortest RSA key accepted. RSA2 keys made by Alipay's
// tool are 2048 bits.
const minKeyBits = 2048

// ParsePrivateKey reads the shop's RSA private key (应用私钥). s is PEM text,
// the path of a file holding PEM, or the bare base64 body without armor
// that Alipay's key tool hands out (one line). PKCS#1 ("RSA PRIVATE KEY")
// and PKCS#8 ("PRIVATE KEY") are accepted; encrypted keys are not.
//
// Returns an error wrapping ErrBadKey that says what was wrong (not PEM,
// no such file, a public key, not RSA, ...), or ErrWeakKey for a key
// shorter than 2048 bits.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, kind, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var key any
	switch kind {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(der)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(der)
	case "":
		if key, err = x509.ParsePKCS8PrivateKey(der); err != nil {
			if key, err = x509.ParsePKCS1PrivateKey(der); err != nil {
				if isPublicDER(der) {
					return nil, fmt.Errorf("%w: this is a public key, not the private key", ErrBadKey)
				}
				return nil, fmt.Errorf("%w: base64 that is not a PKCS#1 or PKCS#8 private key", ErrBadKey)
			}
		}
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: the private key is encrypted; decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)", ErrBadKey)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrBadKey, kind)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not an RSA private key", ErrBadKey, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKCS#1 or PKCS#8 private key: %v", ErrBadKey, err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s, but RSA2 needs an RSA key", ErrBadKey, keyKind(key))
	}
	if err := checkBits(&rk.PublicKey); err != nil {
		return nil, err
	}
	return rk, nil
}

// ParsePublicKey reads an RSA public key, usually Alipay's (支付宝公钥). s is
// PEM text, the path of a file holding PEM, or the bare base64 body without
// armor that Alipay's open platform shows (one line). PKIX ("PUBLIC KEY")
// and PKCS#1 ("RSA PUBLIC KEY") are accepted. Certificate mode (公钥证书) is
// not supported.
//
// Returns an error wrapping ErrBadKey that says what was wrong, or
// ErrWeakKey for a key shorter than 2048 bits.
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	der, kind, err := keyDER(s)
	if err != nil {
		return nil, err
	}
	var key any
	switch kind {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(der)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(der)
	case "":
		if key, err = x509.ParsePKIXPublicKey(der); err != nil {
			if key, err = x509.ParsePKCS1PublicKey(der); err != nil {
				if isPrivateDER(der) {
					return nil, fmt.Errorf("%w: this is a private key; give the public key", ErrBadKey)
				}
				return nil, fmt.Errorf("%w: base64 that is not a PKIX or PKCS#1 public key", ErrBadKey)
			}
		}
	case "CERTIFICATE":
		return nil, fmt.Errorf("%w: a certificate: only public-key mode is supported, give Alipay's public key (支付宝公钥)", ErrBadKey)
	case "RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: PEM block %q is a private key; give the public key", ErrBadKey, kind)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not an RSA public key", ErrBadKey, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKIX or PKCS#1 public key: %v", ErrBadKey, err)
	}
	rk, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s, but RSA2 needs an RSA key", ErrBadKey, keyKind(key))
	}
	if err := checkBits(rk); err != nil {
		return nil, err
	}
	return rk, nil
}

// keyDER finds the DER bytes of a key given as PEM text, a file path, or
// bare base64. kind is the PEM block type, "" for bare base64.
func keyDER(s string) (der []byte, kind string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, "", fmt.Errorf("%w: empty", ErrBadKey)
	}
	if strings.Contains(s, "-----BEGIN") {
		return pemDER(s)
	}
	// A path is tried before base64: short paths can be valid base64.
	b, ferr := os.ReadFile(s)
	if ferr == nil {
		t := strings.TrimSpace(string(b))
		if strings.Contains(t, "-----BEGIN") {
			der, kind, err = pemDER(t)
			if err != nil {
				return nil, "", fmt.Errorf("key file %s: %w", s, err)
			}
			return der, kind, nil
		}
		if der, err = base64Body(t); err != nil {
			return nil, "", fmt.Errorf("%w: key file %s holds neither PEM nor base64 (%v)", ErrBadKey, s, err)
		}
		return der, "", nil
	}
	if der, err = base64Body(s); err != nil {
		return nil, "", fmt.Errorf("%w: neither PEM text, nor a readable file (%v), nor base64 (%v)", ErrBadKey, ferr, err)
	}
	return der, "", nil
}

// pemDER returns the first PEM block of s.
func pemDER(s string) ([]byte, string, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, "", fmt.Errorf("%w: PEM armor without a readable PEM block", ErrBadKey)
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, "", fmt.Errorf("%w: the PEM block is encrypted; decrypt it first", ErrBadKey)
	}
	return block.Bytes, block.Type, nil
}

// base64Body decodes a key's body given without armor, in one line or
// wrapped.
func base64Body(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}

func isPublicDER(der []byte) bool {
	if _, err := x509.ParsePKIXPublicKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PublicKey(der)
	return err == nil
}

func isPrivateDER(der []byte) bool {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(der)
	return err == nil
}

func keyKind(key any) string {
	switch key.(type) {
	case *ecdsa.PrivateKey, *ecdsa.PublicKey:
		return "an ECDSA key"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "an Ed25519 key"
	default:
		return fmt.Sprintf("a %T", key)
	}
}

func checkBits(k *rsa.PublicKey) error {
	if n := k.N.BitLen(); n < minKeyBits {
		return fmt.Errorf("%w: %d bits", ErrWeakKey, n)
	}
	return nil
}
