// Package pipeline turns a capture into a model: jobs, stages, the runner
// (cache, resume, cancel, progress) and the report. Subpackages do the work:
// colmap, mvs, mesh, cad, cloud and synth (the ground-truth generator).
package pipeline
