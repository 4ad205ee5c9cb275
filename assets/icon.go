package assets

import _ "embed"

// Icon is Replica's application icon, a 256×256 PNG: a blue rounded square
// with a white cube outline. FyneApp.toml points at the same file.
//
//go:embed icon.png
var Icon []byte
