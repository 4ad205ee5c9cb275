package mesh

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// WritePLY writes p in the given format: a "vertex" element of float x, y,
// z, then float nx, ny, nz when p has normals and uchar red, green, blue
// when it has colours (and uchar alpha when some colour is not opaque), then
// a "face" element of "list uchar int vertex_indices" when p has faces.
// Coordinates are rounded to float32; ASCII numbers are written in the
// shortest form that reads back to the same float32.
//
// The cloud must pass Validate, the faces must index its points, the
// coordinates must fit float32 and no comment may hold a line break.
func WritePLY(w io.Writer, p *PLY, format Format) error {
	if format < ASCII || format > BinaryBigEndian {
		return fmt.Errorf("ply: unknown format %v", format)
	}
	c := &p.Cloud
	if err := c.Validate(); err != nil {
		return fmt.Errorf("ply: invalid cloud: %w", err)
	}
	if err := fitsFloat32(c.Points); err != nil {
		return fmt.Errorf("ply: %w", err)
	}
	if err := fitsFloat32(c.Normals); err != nil {
		return fmt.Errorf("ply: normal: %w", err)
	}
	if len(c.Points) > math.MaxInt32 {
		return fmt.Errorf("ply: %d points do not fit int indices", len(c.Points))
	}
	for i, f := range p.Faces {
		for _, v := range f {
			if v < 0 || int(v) >= len(c.Points) {
				return fmt.Errorf("ply: face %d: vertex index %d out of range [0, %d)", i, v, len(c.Points))
			}
		}
	}
	for i, s := range p.Comments {
		// The reader strips trailing carriage returns from lines.
		if strings.ContainsRune(s, '\n') || strings.HasSuffix(s, "\r") {
			return fmt.Errorf("ply: comment %d holds a line break", i)
		}
	}
	alpha := false
	for _, col := range c.Colors {
		alpha = alpha || col.A != 255
	}

	bw := bufio.NewWriterSize(w, 1<<16)
	fmt.Fprintf(bw, "ply\nformat %s 1.0\n", format)
	for _, s := range p.Comments {
		fmt.Fprintf(bw, "comment %s\n", s)
	}
	fmt.Fprintf(bw, "element vertex %d\nproperty float x\nproperty float y\nproperty float z\n", len(c.Points))
	if len(c.Normals) > 0 {
		bw.WriteString("property float nx\nproperty float ny\nproperty float nz\n")
	}
	if len(c.Colors) > 0 {
		bw.WriteString("property uchar red\nproperty uchar green\nproperty uchar blue\n")
		if alpha {
			bw.WriteString("property uchar alpha\n")
		}
	}
	if len(p.Faces) > 0 {
		fmt.Fprintf(bw, "element face %d\nproperty list uchar int vertex_indices\n", len(p.Faces))
	}
	bw.WriteString("end_header\n")

	var order binary.AppendByteOrder = binary.LittleEndian
	if format == BinaryBigEndian {
		order = binary.BigEndian
	}
	var buf []byte
	float := func(v float64) {
		if format == ASCII {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			buf = strconv.AppendFloat(buf, float64(float32(v)), 'g', -1, 32)
		} else {
			buf = order.AppendUint32(buf, math.Float32bits(float32(v)))
		}
	}
	byteVal := func(v uint8) {
		if format == ASCII {
			buf = append(buf, ' ')
			buf = strconv.AppendUint(buf, uint64(v), 10)
		} else {
			buf = append(buf, v)
		}
	}
	for i, pt := range c.Points {
		buf = buf[:0]
		float(pt.X)
		float(pt.Y)
		float(pt.Z)
		if len(c.Normals) > 0 {
			n := c.Normals[i]
			float(n.X)
			float(n.Y)
			float(n.Z)
		}
		if len(c.Colors) > 0 {
			col := c.Colors[i]
			byteVal(col.R)
			byteVal(col.G)
			byteVal(col.B)
			if alpha {
				byteVal(col.A)
			}
		}
		if format == ASCII {
			buf = append(buf, '\n')
		}
		bw.Write(buf)
	}
	for _, f := range p.Faces {
		buf = buf[:0]
		if format == ASCII {
			buf = append(buf, '3')
			for _, v := range f {
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, int64(v), 10)
			}
			buf = append(buf, '\n')
		} else {
			buf = append(buf, 3)
			for _, v := range f {
				buf = order.AppendUint32(buf, uint32(v))
			}
		}
		bw.Write(buf)
	}
	// bufio.Writer keeps the first write error and returns it here.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("ply: write: %w", err)
	}
	return nil
}
