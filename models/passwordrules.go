package models

import (
	_ "embed"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Password length bounds, in characters.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 128
)

// PasswordProblem is a rule a password breaks; its value names it for
// message catalogs.
type PasswordProblem string

// The password rules, as Django's validators have them.
const (
	PasswordTooShort   PasswordProblem = "password_short"   // MinimumLengthValidator
	PasswordTooLong    PasswordProblem = "password_long"    // and a maximum
	PasswordTooSimilar PasswordProblem = "password_similar" // UserAttributeSimilarityValidator
	PasswordNumeric    PasswordProblem = "password_numeric" // NumericPasswordValidator
	PasswordCommon     PasswordProblem = "password_common"  // CommonPasswordValidator
)

// maxSimilarity is Django's default for UserAttributeSimilarityValidator.
const maxSimilarity = 0.7

// CheckPassword returns the rules password breaks, none when it is
// acceptable: 8 to 128 characters, not too similar to any of attrs (the
// username, the mobile, the e-mail), not all digits, not a common
// password. Sign-up and createsuperuser share it.
func CheckPassword(password string, attrs ...string) []PasswordProblem {
	var out []PasswordProblem
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		out = append(out, PasswordTooShort)
	case n > MaxPasswordLen:
		return append(out, PasswordTooLong)
	}
	if similarToAny(password, attrs) {
		out = append(out, PasswordTooSimilar)
	}
	if password != "" && strings.IndexFunc(password, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
		out = append(out, PasswordNumeric)
	}
	if commonPassword(password) {
		out = append(out, PasswordCommon)
	}
	return out
}

// PasswordRulesText says in English what rules were broken, for the
// command line.
func PasswordRulesText(bad []PasswordProblem) string {
	text := map[PasswordProblem]string{
		PasswordTooShort:   "at least 8 characters",
		PasswordTooLong:    "at most 128 characters",
		PasswordTooSimilar: "not too like the username, e-mail or mobile",
		PasswordNumeric:    "not digits only",
		PasswordCommon:     "not a common password",
	}
	out := make([]string, len(bad))
	for i, p := range bad {
		out[i] = text[p]
	}
	return strings.Join(out, "; ")
}

var nonWord = regexp.MustCompile(`\W+`)

// similarToAny is Django's UserAttributeSimilarityValidator: the password
// is too similar to a value, or to a word of it, when difflib's
// quick_ratio of the two (lowercased) reaches maxSimilarity. A value much
// shorter than a long password is skipped, as Django does.
func similarToAny(password string, attrs []string) bool {
	pw := strings.ToLower(password)
	for _, v := range attrs {
		v = strings.ToLower(v)
		if v == "" {
			continue
		}
		for _, part := range append(nonWord.Split(v, -1), v) {
			if part == "" || exceedsLengthRatio(pw, part) {
				continue
			}
			if quickRatio(pw, part) >= maxSimilarity {
				return true
			}
		}
	}
	return false
}

func exceedsLengthRatio(password, value string) bool {
	pl, vl := utf8.RuneCountInString(password), utf8.RuneCountInString(value)
	return pl >= 10*vl && float64(vl) < maxSimilarity/2*float64(pl)
}

// quickRatio is Python difflib's SequenceMatcher.quick_ratio: twice the
// characters the two have in common (as multisets) over their total length.
func quickRatio(a, b string) float64 {
	count := map[rune]int{}
	for _, r := range b {
		count[r]++
	}
	matches, total := 0, utf8.RuneCountInString(b)
	for _, r := range a {
		total++
		if count[r] > 0 {
			count[r]--
			matches++
		}
	}
	if total == 0 {
		return 1
	}
	return 2 * float64(matches) / float64(total)
}

//go:embed commonpasswords/common-passwords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 20_000)
	for _, p := range strings.Split(commonPasswordList, "\n") {
		if p != "" {
			set[p] = struct{}{}
		}
	}
	return set
})

// commonPassword reports whether password, trimmed and lowercased, is on
// the list (commonpasswords/README.md says where it comes from).
func commonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(password))]
	return ok
}
