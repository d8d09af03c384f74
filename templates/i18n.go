package templates

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a UI language. The shop speaks Simplified Chinese first.
type Lang int

const (
	Chinese Lang = iota // zh-Hans
	English
)

// Code is the BCP 47 tag, for <html lang>.
func (l Lang) Code() string {
	if l == English {
		return "en"
	}
	return "zh-CN"
}

var matcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})

// ParseLang picks a language from an explicit choice (a cookie or ?lang=)
// and, failing that, from an Accept-Language header.
func ParseLang(choice, acceptLanguage string) Lang {
	switch strings.ToLower(choice) {
	case "en":
		return English
	case "zh", "zh-cn", "zh-hans":
		return Chinese
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Chinese
	}
	_, i, conf := matcher.Match(tags...)
	if i == 1 && conf != language.No {
		return English
	}
	return Chinese
}

// T looks a message up in the catalog. A missing key shows itself, and
// TestCatalogComplete fails on any key used but not defined.
func T(l Lang, key string) string {
	m, ok := catalog[key]
	if !ok {
		return key
	}
	return m[l]
}

// Has reports whether the catalog holds key: for a key that comes from
// outside (a cookie), which must never show itself.
func Has(key string) bool {
	_, ok := catalog[key]
	return ok
}

// Tf is T with fmt.Sprintf arguments.
func Tf(l Lang, key string, args ...any) string {
	return fmt.Sprintf(T(l, key), args...)
}

// catalog maps a message key to its text in each Lang, in Lang order.
// Each area of the shop keeps its messages in its own file.
var catalog = merge(commonMessages, catalogMessages, accountMessages, addressMessages, cartMessages, orderMessages, lifeMessages, paymentMessages, seckillMessages, adminMessages)

func merge(parts ...map[string][2]string) map[string][2]string {
	out := map[string][2]string{}
	for _, p := range parts {
		for k, v := range p {
			if _, dup := out[k]; dup {
				panic("templates: message key defined twice: " + k)
			}
			out[k] = v
		}
	}
	return out
}
