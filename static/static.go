// Package static holds the shop's CSS, JavaScript and images, embedded in
// the binary. Nothing is loaded from a CDN.
package static

import "embed"

// Files is served under /static/.
//
//go:embed css js img
var Files embed.FS
