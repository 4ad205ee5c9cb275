// Package meshview is Replica's 3D preview of a mesh and a point cloud: a
// Fyne widget, View, that shows them lit and shaded and lets the user orbit,
// pan and zoom, drawn by a software renderer, Renderer.
//
// Renderer imports nothing of Fyne: it draws into an *image.RGBA with a
// perspective camera, a depth buffer, back-face culling, flat or smooth
// shading under two directional lights, faces in a light grey or each in a
// colour of its own (SetMeshColors: the CAD preview's surface types), and
// points as small squares, on all the CPUs. The View draws its frames on a goroutine of its own and hands
// them to a canvas.Raster, so the UI never waits for a frame.
//
// Speed, from the benchmarks in bench_test.go (800×600 images of a closed
// bumpy torus filling most of them, 2 cores of an AMD EPYC VM, Go 1.26,
// November 2026): a million triangles draw in 25–30 ms a frame, smooth or
// flat (BenchmarkRender1M), and three million in about 65 ms, over the
// 50 ms that keep a drag at 20 frames a second. So a mesh of more than
// ProxyMinTriangles faces gets a proxy of about ProxyTriangles, made by
// vertex clustering (Rossignac and Borrel 1993), which draws
// in about 14 ms whatever the size of the mesh (BenchmarkRender3MMoving);
// a cloud of more than ProxyMinPoints points gets one of every k-th point.
// The View draws from the proxy while the user drags or scrolls
// (Renderer.Proxy) and draws one full frame when the view comes to rest.
// SetMesh prepares a million triangles in about 100 ms and three million
// in about 260 ms, on the View's render goroutine; it makes their proxy
// (about 270 ms on its own, BenchmarkProxyBuild3M) on a second goroutine
// at the same time, so that the whole takes about 310 ms when the other
// core is free and up to twice that when it is busy (BenchmarkSetMesh3M).
package meshview
