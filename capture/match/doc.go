// Package match finds and verifies point correspondences between two photos,
// so that capture can tell, while the maker shoots, whether consecutive photos
// overlap enough to be reconstructed, and roughly how the camera moved
// between them.
//
// # Pipeline
//
// [Detect] finds ORB features (Rublee, Rabaud, Konolige and Bradski, "ORB: an
// efficient alternative to SIFT or SURF", ICCV 2011):
//
//   - an image pyramid of [DefaultLevels] levels, each [DefaultScaleFactor]
//     times smaller than the one before, resampled bilinearly from it;
//   - FAST-9 corners on every level (Rosten and Drummond, "Machine learning for
//     high-speed corner detection", ECCV 2006): the segment test on the
//     16-pixel Bresenham circle of radius 3, 9 contiguous pixels all brighter
//     or all darker than the centre by more than a threshold, and a 3×3
//     non-maximum suppression by the FAST score (the largest threshold at
//     which the pixel is still a corner);
//   - the survivors, first thinned to four times the level's quota by FAST
//     score, ranked by the Harris response (Harris and Stephens, "A combined
//     corner and edge detector", 1988; 7×7 window, k = 0.04, as in the ORB
//     paper §3.1) and kept under a per-level quota that falls with the
//     level's scale, spread over the level by a per-cell quota in a grid;
//   - the orientation of each keypoint by the intensity centroid of a disc of
//     radius 15 (Rosin, "Measuring corner properties", CVIU 1999; ORB §3.2);
//   - a 256-bit steered BRIEF descriptor (Calonder, Lepetit, Strecha and Fua,
//     "BRIEF: binary robust independent elementary features", ECCV 2010;
//     ORB §4): each bit compares the means of two 5×5 boxes (ORB §4: "a
//     5×5 sub-window of a 31×31 pixel patch") at a pair of offsets rotated
//     by the keypoint's angle and rounded to whole pixels. The pairs are a
//     fixed pattern drawn once from an isotropic Gaussian of standard
//     deviation 31/5 around the keypoint (BRIEF's sampling strategy G II),
//     limited to a disc of radius 15, by a generator with a fixed seed. ORB's
//     learned rBRIEF pattern is not used.
//
// [Match] pairs descriptors by brute-force Hamming distance with Lowe's ratio
// test (Lowe, "Distinctive image features from scale-invariant keypoints",
// IJCV 2004, §7.1) and keeps mutual nearest neighbours only.
//
// [VerifyFundamental] fits a fundamental matrix to the pairs by RANSAC
// (Fischler and Bolles, CACM 1981) following Hartley and Zisserman, Multiple
// View Geometry in Computer Vision, 2nd ed. (H&Z below): the normalised
// 8-point algorithm with the rank-2 constraint (H&Z §11.2, Algorithm 11.1),
// the Sampson distance as the error (H&Z §11.4.3), the adaptive number of
// samples (H&Z §4.7.1, Algorithm 4.5) and a final least-squares fit to all
// inliers. Each new best hypothesis is refitted to its inliers, which is
// the local optimisation of Chum, Matas and Kittler ("Locally optimized
// RANSAC", DAGM 2003). The random generator is seeded, so results are
// reproducible.
//
// [RelativePose] recovers the camera motion for the focal lengths given,
// with the principal points at the image centres. It refuses pairs that
// one homography explains (a plane, a pure rotation: F is then not
// determined, H&Z §11.9), estimates the essential matrix on normalised
// coordinates by a small RANSAC seeded with E = K_bᵀ F K_a (H&Z §9.6,
// eq. 9.12), scored by MSAC (Torr and Zisserman, "MLESAC", CVIU 2000) and
// projected onto the essential matrices (two equal singular values, one
// zero; H&Z §11.7.3), decomposes it into its four (R, t) candidates (H&Z
// §9.6.2, Result 9.19), keeps the one that puts the most points in front
// of both cameras, and refines it by Levenberg–Marquardt (H&Z §A6.2) on a
// Cauchy loss of the Sampson distances.
//
// Where RelativePose refuses because one plane holds most of the points,
// as the mat and the printed sheet under a part do, [PlanarPose] recovers
// the motion from the plane instead: [FitHomography] fits a homography by
// RANSAC on the normalised DLT (H&Z §4.4, Algorithm 4.2) with the transfer
// error, [DecomposeHomography] splits the calibrated homography into its
// four (R, t/d, n) readings by the SVD-based method of Faugeras and
// Lustman (IJPRAI 1988; Ma, Soatto, Košecká and Sastry, An Invitation to
// 3-D Vision, §5.3.3), the visibility constraint (Malis and Vargas, INRIA
// RR-6303, 2007) leaves two, and a hint of which way is up picks the one
// whose plane is seen from above.
//
// [Overlap] scores the pair by its inlier count and by the share of each
// image the inliers cover; [Compare] runs everything, falling back on
// PlanarPose when RelativePose fails.
//
// # Conventions
//
// Pixel coordinates are in the level-0 image (the one given to [Detect]),
// relative to its top-left corner, with x to the right, y down, and the
// centre of pixel (i, j) at (i, j). The principal point is the image centre
// ((Width−1)/2, (Height−1)/2). Camera coordinates have x right, y down and z
// forward; a rotation R and translation t map a point from camera a to
// camera b: x_b = R·x_a + t. Matrices are 3×3, row-major. The fundamental
// matrix satisfies x_bᵀ F x_a = 0 for homogeneous pixel coordinates.
package match
