package models

import "testing"

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, s   string
		multiline bool
		want      TextProblem
	}{
		{"empty", "", false, ""},
		{"chinese", "张三 北京市海淀区", false, ""},
		{"emoji", "礼物 🎁", false, ""},
		{"inner spaces", "Mr  Li", false, ""},
		{"NUL", "ab\x00c", false, TextControl},
		{"ESC", "ab\x1b[31mc", false, TextControl},
		{"DEL", "ab\x7f", false, TextControl},
		{"C1", "ab\u0085", false, TextControl},
		{"newline in one line", "a\nb", false, TextControl},
		{"newline in a description", "line one\nline two\r\n\tthree", true, ""},
		{"bidi override", "abc\u202Egnp.exe", false, TextControl},
		{"bidi embedding", "\u202Aabc", false, TextControl},
		{"bidi isolate", "abc\u2066x\u2069", false, TextControl},
		{"bidi isolate in a description", "abc\u2067x", true, TextControl},
		{"right-to-left mark", "abc\u200F", false, TextControl},
		{"invalid UTF-8", "ab\xff", false, TextControl},
		{"zero-width space only", "\u200B\u200B", false, TextInvisible},
		{"zero-width joiners only", "\u200C\u200D\u2060\uFEFF", false, TextInvisible},
		{"hangul filler", "\u3164", false, TextInvisible},
		{"half-width hangul filler", "\uFFA0\uFFA0", false, TextInvisible},
		{"braille blank", "\u2800", false, TextInvisible},
		{"ideographic space", "\u3000\u3000", false, TextInvisible},
		{"combining marks only", "\u0301\u0308", false, TextInvisible},
		{"variation selector only", "\uFE0F", false, TextInvisible},
		{"spaces in a description", " \n ", true, TextInvisible},
		{"zero-width space between letters", "a\u200Bb", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckText(tt.s, tt.multiline); got != tt.want {
				t.Errorf("CheckText(%q, %v) = %q, want %q", tt.s, tt.multiline, got, tt.want)
			}
		})
	}
}
