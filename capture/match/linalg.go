package match

import "math"

// Small dense linear algebra on fixed-size, row-major arrays, so that the
// RANSAC loop does not allocate.

func mul3(a, b *[9]float64) [9]float64 {
	var c [9]float64
	for i := range 3 {
		for j := range 3 {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

func transpose3(a *[9]float64) [9]float64 {
	return [9]float64{a[0], a[3], a[6], a[1], a[4], a[7], a[2], a[5], a[8]}
}

func det3(a *[9]float64) float64 {
	return a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
}

func mulVec3(a *[9]float64, v [3]float64) [3]float64 {
	return [3]float64{
		a[0]*v[0] + a[1]*v[1] + a[2]*v[2],
		a[3]*v[0] + a[4]*v[1] + a[5]*v[2],
		a[6]*v[0] + a[7]*v[1] + a[8]*v[2],
	}
}

func dot3(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func norm3(a [3]float64) float64 { return math.Sqrt(dot3(a, a)) }

func frobenius(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// symEigen diagonalises the symmetric n×n matrix a (row-major; destroyed)
// by the cyclic Jacobi method (Golub and Van Loan, Matrix Computations,
// 4th ed., §8.5.3): on return w holds the eigenvalues in increasing order
// and the columns of v the matching unit eigenvectors. Jacobi finds small
// eigenvalues to high relative accuracy, which is what null vectors need.
func symEigen(a []float64, n int, w, v []float64) {
	for i := range n * n {
		v[i] = 0
	}
	for i := range n {
		v[i*n+i] = 1
	}
	for range 50 {
		off, diag := 0.0, 0.0
		for p := range n {
			diag += a[p*n+p] * a[p*n+p]
			for q := p + 1; q < n; q++ {
				off += a[p*n+q] * a[p*n+q]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := 0; p < n-1; p++ {
			for q := p + 1; q < n; q++ {
				apq := a[p*n+q]
				// An element negligible next to both diagonal elements is
				// zeroed without a rotation (Golub and Van Loan's
				// threshold strategy); it would not change them.
				if math.Abs(apq) <= 1e-17*math.Min(math.Abs(a[p*n+p]), math.Abs(a[q*n+q])) {
					a[p*n+q], a[q*n+p] = 0, 0
					continue
				}
				theta := (a[q*n+q] - a[p*n+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for k := range n {
					akp, akq := a[k*n+p], a[k*n+q]
					a[k*n+p] = c*akp - s*akq
					a[k*n+q] = s*akp + c*akq
				}
				for k := range n {
					apk, aqk := a[p*n+k], a[q*n+k]
					a[p*n+k] = c*apk - s*aqk
					a[q*n+k] = s*apk + c*aqk
				}
				for k := range n {
					vkp, vkq := v[k*n+p], v[k*n+q]
					v[k*n+p] = c*vkp - s*vkq
					v[k*n+q] = s*vkp + c*vkq
				}
			}
		}
	}
	for i := range n {
		w[i] = a[i*n+i]
	}
	// Selection sort into increasing order; n is at most 9.
	for i := range n {
		m := i
		for j := i + 1; j < n; j++ {
			if w[j] < w[m] {
				m = j
			}
		}
		if m != i {
			w[i], w[m] = w[m], w[i]
			for k := range n {
				v[k*n+i], v[k*n+m] = v[k*n+m], v[k*n+i]
			}
		}
	}
}

// nullVector8 finds the unit vector f with A·f = 0 for the 8×9 matrix A
// (destroyed) by Gaussian elimination with complete pivoting. It reports
// false when A has rank below 8, judged by a pivot below 1e-9 of the
// first: the eight points of a minimal sample are then degenerate.
func nullVector8(A *[8][9]float64, f *[9]float64) bool {
	var perm [9]int
	for j := range perm {
		perm[j] = j
	}
	first := 0.0
	for k := range 8 {
		pi, pj, best := k, k, 0.0
		for i := k; i < 8; i++ {
			for j := k; j < 9; j++ {
				if v := math.Abs(A[i][j]); v > best {
					pi, pj, best = i, j, v
				}
			}
		}
		if k == 0 {
			first = best
		}
		if best == 0 || best < 1e-9*first {
			return false
		}
		A[k], A[pi] = A[pi], A[k]
		if pj != k {
			for i := range 8 {
				A[i][k], A[i][pj] = A[i][pj], A[i][k]
			}
			perm[k], perm[pj] = perm[pj], perm[k]
		}
		inv := 1 / A[k][k]
		for i := k + 1; i < 8; i++ {
			m := A[i][k] * inv
			if m == 0 {
				continue
			}
			for j := k + 1; j < 9; j++ {
				A[i][j] -= m * A[k][j]
			}
			A[i][k] = 0
		}
	}
	var x [9]float64
	x[8] = 1
	for k := 7; k >= 0; k-- {
		s := 0.0
		for j := k + 1; j < 9; j++ {
			s += A[k][j] * x[j]
		}
		x[k] = -s / A[k][k]
	}
	n := frobenius(x[:])
	for j := range x {
		f[perm[j]] = x[j] / n
	}
	return true
}

// rank2 replaces F by the nearest matrix of rank 2 in the Frobenius norm
// (H&Z §11.1.1): with v the right singular vector of F's smallest singular
// value, F − (F·v)·vᵀ.
func rank2(F *[9]float64) {
	ftf := mul3Transposed(F)
	var w [3]float64
	var v [9]float64
	symEigen(ftf[:], 3, w[:], v[:])
	n := [3]float64{v[0], v[3], v[6]}
	fv := mulVec3(F, n)
	for i := range 3 {
		for j := range 3 {
			F[3*i+j] -= fv[i] * n[j]
		}
	}
}

// mul3Transposed returns Aᵀ·A.
func mul3Transposed(a *[9]float64) [9]float64 {
	t := transpose3(a)
	return mul3(&t, a)
}
