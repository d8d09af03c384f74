package models

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		attrs    []string
		want     []PasswordProblem
	}{
		{"fine", "correct-horse-42", []string{"alice", "13800138000"}, nil},
		{"empty", "", nil, []PasswordProblem{PasswordTooShort}},
		{"seven", "Zq9-Zq9", nil, []PasswordProblem{PasswordTooShort}},
		{"eight", "Zq9-Zq9-", nil, nil},
		{"128", strings.Repeat("Zq9-", 32), nil, nil},
		{"129", strings.Repeat("Zq9-", 32) + "x", nil, []PasswordProblem{PasswordTooLong}},
		{"multibyte counts characters", "密码密码密码密码", nil, nil},
		{"digits", "48151623420", nil, []PasswordProblem{PasswordNumeric}},
		{"full-width digits", "４８１５１６２３４２", nil, []PasswordProblem{PasswordNumeric}},
		{"common", "password", nil, []PasswordProblem{PasswordCommon}},
		{"common, any case and spaces", " PassWord1 ", nil, []PasswordProblem{PasswordCommon}},
		{"common digits", "12345678", nil, []PasswordProblem{PasswordNumeric, PasswordCommon}},
		{"the username", "alice2024", []string{"alice2024"}, []PasswordProblem{PasswordTooSimilar}},
		{"the username reversed", "4202ecila", []string{"alice2024"}, []PasswordProblem{PasswordTooSimilar}},
		{"the username in capitals", "ALICEBOB9", []string{"alicebob"}, []PasswordProblem{PasswordTooSimilar}},
		{"the mobile", "13800138000a", []string{"x", "13800138000"}, []PasswordProblem{PasswordTooSimilar}},
		{"a word of the e-mail", "wangxiaoming1", []string{"wangxiaoming@example.com"}, []PasswordProblem{PasswordTooSimilar}},
		{"long password, short name", "a-long-passphrase-of-words-x", []string{"bob"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.password, tt.attrs...); !slices.Equal(got, tt.want) {
				t.Errorf("CheckPassword(%q, %q) = %v, want %v", tt.password, tt.attrs, got, tt.want)
			}
		})
	}
}

func TestCommonPasswordList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 10_000 {
		t.Fatalf("%d common passwords, want at least 10,000", len(list))
	}
	for _, p := range []string{"password", "12345678", "iloveyou", "qwertyuiop", "1qaz2wsx"} {
		if !commonPassword(p) {
			t.Errorf("%q is not on the list", p)
		}
	}
}

// TestQuickRatio against values from Python's difflib.
func TestQuickRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"abcd", "bcde", 0.75},
		{"alice2024", "alice2024", 1},
		{"", "", 1},
		{"abc", "xyz", 0},
	}
	for _, tt := range tests {
		if got := quickRatio(tt.a, tt.b); got != tt.want {
			t.Errorf("quickRatio(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
