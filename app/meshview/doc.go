// Package meshview is Replica's 3D preview of a mesh and a point cloud: a
// Fyne widget, View, that shows them lit and shaded and lets the user orbit,
// pan and zoom, drawn by a software renderer, Renderer.
//
// Renderer imports nothing of Fyne: it draws into an *image.RGBA with a
// perspective camera, a depth buffer, back-face culling, flat or smooth
// shading under two directional lights, and points as small squares, on all
// the CPUs. The View draws its frames on a goroutine of its own and hands
// them to a canvas.Raster, so the UI never waits for a frame.
//
// Speed, from BenchmarkRender1M (a closed bumpy torus of 1,000,000
// triangles filling most of an 800×600 image, 2 cores of an AMD EPYC VM,
// Go 1.26, November 2026): 25–30 ms a frame, smooth or flat, so the full
// mesh is drawn while dragging and no simplified proxy is needed at that
// size. SetMesh prepares such a mesh in about 100 ms, on the View's render
// goroutine.
package meshview
