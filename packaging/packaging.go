// Package packaging holds release metadata: Linux desktop files, the Windows
// installer and the cloud worker container (later issues). It has no code.
package packaging
