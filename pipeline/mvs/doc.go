// Package mvs is Replica's CPU multi-view stereo, for machines where COLMAP's
// CUDA-only patch_match_stereo cannot run. It reads the undistorted
// workspace that colmap image_undistorter writes (pinhole cameras, the
// sparse model and the images), estimates a depth and normal map for every
// registered photo, keeps the depths that other views confirm and fuses them
// into a point cloud with normals and colours for the mesh stage.
//
// The method is PatchMatch stereo with slanted planes in the Gipuma/ACMH
// family:
//
//   - Each pixel of a reference view holds a plane hypothesis, a depth and a
//     normal, initialised at random within the depth range of the sparse
//     points the view sees (Bleyer et al., "PatchMatch Stereo", BMVC 2011,
//     §2; Galliani et al., "Massively Parallel Multiview Stereopsis by
//     Surface Normal Diffusion", ICCV 2015, §3.1).
//   - A hypothesis is scored by warping a window around the pixel into each
//     source view with the homography its plane induces and taking
//     1 − NCC of the grey values, the window sampled with a stride
//     (Galliani et al. §3.2, "sparse" matching windows). The multi-view cost
//     is the mean of the best k source costs (Galliani et al. §3.2,
//     Eq. 5), which tolerates occlusion and views that see the pixel
//     at the edge.
//   - Hypotheses spread by red-black checkerboard propagation: all pixels of
//     one colour are updated in parallel from pixels of the other colour
//     (Galliani et al. §3.3). Candidates are the best-scoring pixels of
//     eight regions around the pixel, four V-shaped near regions and four
//     long strips (Xu & Tao, "Multi-Scale Geometric Consistency Guided
//     Multi-View Stereo", CVPR 2019, §3.1, "adaptive checkerboard
//     sampling"), so that good planes travel far within few iterations.
//   - After propagation each pixel tries perturbations of its depth and
//     normal whose range shrinks with each iteration (Galliani et al. §3.4;
//     Xu & Tao §3.1).
//   - Coarse to fine: the iterations run on an image pyramid, each level
//     half the size of the one below; a level starts from the planes of
//     the level above and runs one iteration that takes candidates from
//     the near regions only (after Xu & Tao §3.2, without their geometric
//     consistency term). Most of the search happens on a sixteenth of the
//     pixels, so a working-size view costs about one and a half
//     iterations.
//   - Fusion keeps a depth only where at least MinConsistent other views
//     agree: the point reprojected through their depth maps comes back
//     within MaxReprojError pixels with a relative depth difference below
//     MaxDepthDiff (Galliani et al. §3.5; Xu & Tao §3.3). The agreeing
//     points are averaged, and the pixels they came from are not fused
//     again.
//
// Source views are chosen from the sparse model by the number of points two
// views share, weighted by the triangulation angle between them (Schönberger
// et al., "Pixelwise View Selection for Unstructured Multi-View Stereo",
// ECCV 2016, §4.1 uses the same prior).
//
// The cost is where the time goes, so it is built for speed: grey images
// as float32, each source stored as bilinear cells (one load per sample),
// the reference window normalised once per pixel rather than once per
// hypothesis, windows sampled with a stride (Options.Stride), and a
// candidate plane that the pixel has already tried is not scored again.
//
// Work is bounded by the working resolution (Options.MaxSize): images are
// downsampled once, and each depth map costs 5 float32 per pixel. Every
// loop checks its context between rows, and Run reports progress per view.
package mvs
