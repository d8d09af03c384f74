package alipay

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// canonical returns the string that RSA2 signs: the parameters sorted by
// name, empty ones and those named in skip left out, joined k=v&k=v with
// the raw (not URL-encoded) values. A parameter given twice is refused: it
// is unknown which of its values was signed.
//
// Requests are signed without sign; notifications and returns are verified
// without sign and sign_type.
func canonical(params url.Values, skip ...string) (string, error) {
	keys := make([]string, 0, len(params))
	for k, vs := range params {
		if len(vs) > 1 {
			return "", fmt.Errorf("%w: %q given %d times", ErrMalformed, k, len(vs))
		}
		if len(vs) == 0 || vs[0] == "" || slices.Contains(skip, k) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return b.String(), nil
}

// signString signs content with SHA256withRSA (PKCS#1 v1.5) and returns
// the signature in standard base64.
func signString(key *rsa.PrivateKey, content string) (string, error) {
	sum := sha256.Sum256([]byte(content))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign with RSA2: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verifyString checks an RSA2 signature in standard base64 over content.
// Returns ErrBadSignature if it does not verify.
func verifyString(key *rsa.PublicKey, content, sign string) error {
	sig, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		if strings.Contains(sign, " ") {
			return fmt.Errorf("%w: sign holds a space, a '+' decoded twice or never encoded", ErrBadSignature)
		}
		return fmt.Errorf("%w: sign is not base64: %v", ErrBadSignature, err)
	}
	sum := sha256.Sum256([]byte(content))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return ErrBadSignature
	}
	return nil
}

// signParams sets params' sign: RSA2 over every non-empty parameter but
// sign, sign_type included, as Alipay wants requests signed.
func signParams(key *rsa.PrivateKey, params url.Values) error {
	params.Del("sign")
	content, err := canonical(params, "sign")
	if err != nil {
		return err
	}
	sign, err := signString(key, content)
	if err != nil {
		return err
	}
	params.Set("sign", sign)
	return nil
}

// verifyParams checks the sign of parameters that Alipay sent (a
// notification or a return): over every parameter received but sign and
// sign_type, whose value must be RSA2 when present.
//
// Returns ErrNoSignature, ErrSignType, ErrMalformed (a repeated parameter)
// or ErrBadSignature.
func verifyParams(key *rsa.PublicKey, params url.Values) error {
	return verifyWithout(key, params, "sign", "sign_type")
}

// verifyWithout checks params' sign over every non-empty parameter but
// those in skip.
func verifyWithout(key *rsa.PublicKey, params url.Values, skip ...string) error {
	sign, err := single(params, "sign")
	if err != nil {
		return err
	}
	if sign == "" {
		return ErrNoSignature
	}
	if vs, ok := params["sign_type"]; ok && (len(vs) != 1 || vs[0] != signTypeRSA2) {
		return fmt.Errorf("%w: %q", ErrSignType, strings.Join(vs, ","))
	}
	content, err := canonical(params, skip...)
	if err != nil {
		return err
	}
	return verifyString(key, content, sign)
}

// single returns the value of a parameter given at most once; "" if absent.
func single(params url.Values, name string) (string, error) {
	vs := params[name]
	if len(vs) > 1 {
		return "", fmt.Errorf("%w: %q given %d times", ErrMalformed, name, len(vs))
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// required returns the value of a parameter that must be given once and
// not empty.
func required(params url.Values, name string) (string, error) {
	v, err := single(params, name)
	if err != nil {
		return "", err
	}
	if v == "" {
		return "", fmt.Errorf("%w: %s missing", ErrMalformed, name)
	}
	return v, nil
}
