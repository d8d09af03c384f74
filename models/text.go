package models

import (
	"unicode"
	"unicode/utf8"
)

// TextProblem is why a text that people will see is refused; "" is none.
type TextProblem string

const (
	// TextControl: a control character (NUL, ESC, ...), a bidi override
	// or isolate (U+202A-U+202E, U+2066-U+2069), or invalid UTF-8.
	TextControl TextProblem = "control"
	// TextInvisible: nothing a reader can see (spaces, zero-width and
	// filler characters, lone combining marks).
	TextInvisible TextProblem = "invisible"
)

// Text says in English what is wrong, for the command line and logs.
func (p TextProblem) Text() string {
	switch p {
	case TextControl:
		return "has control characters or text-direction controls"
	case TextInvisible:
		return "has nothing visible"
	}
	return "is fine"
}

// CheckText checks a text field that people see: names, captions,
// addresses, usernames, notes. multiline allows line breaks and tabs (a
// product description). An empty text is not a problem here: required
// fields say so themselves.
func CheckText(s string, multiline bool) TextProblem {
	if !utf8.ValidString(s) {
		return TextControl
	}
	visible := false
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r), bidiControl(r):
			return TextControl
		case !invisible(r):
			visible = true
		}
	}
	if s != "" && !visible {
		return TextInvisible
	}
	return ""
}

// bidiControl reports the embeddings, overrides and isolates that reorder
// the text around them (Trojan Source), and the bidi marks.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// invisible reports characters that show nothing by themselves.
func invisible(r rune) bool {
	switch r {
	case 0x115F, 0x1160, 0x3164, 0xFFA0, // Hangul fillers
		0x2800,         // Braille blank
		0x180E,         // Mongolian vowel separator
		0x034F,         // combining grapheme joiner
		0x17B4, 0x17B5: // Khmer inherent vowels
		return true
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Zs, unicode.Cf, unicode.Mn, unicode.Me, unicode.Co, unicode.Cs) ||
		unicode.Is(unicode.Variation_Selector, r) || !unicode.IsGraphic(r)
}
