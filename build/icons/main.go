// Command icons draws feedkey's tray icons and writes them to assets/icons.
//
// Run it from the module root (or through `go generate ./assets`):
//
//	go run ./build/icons -out assets/icons
//
// For each state (ok, refreshing, signin, error) it writes
//
//	<state>.png           64×64 RGBA, full colour (Linux StatusNotifierItem)
//	<state>.ico           16, 32 and 48 px 32-bit BMP entries (Windows)
//	<state>-template.png  64×64, black on transparent (macOS template image)
//
// The picture is a key (ring bow, diagonal shaft, two teeth) with a round
// state badge in the lower right corner: green check, blue circular arrows,
// amber exclamation mark, red cross. Shapes are described by signed
// distance functions in unit coordinates and rasterised by supersampling,
// so every size is drawn from the geometry rather than scaled from a bitmap.
// The output is deterministic: running the command twice writes identical
// bytes (build/icons tests compare against the committed files).
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// States lists the icon states in the order they are written.
var States = []string{"ok", "refreshing", "signin", "error"}

const (
	pngSize   = 64 // Linux and macOS template PNG size
	supersamp = 16 // samples per pixel along each axis
)

// icoSizes are the sizes stored in each .ico file.
var icoSizes = []int{16, 32, 48}

func main() {
	out := flag.String("out", "assets/icons", "output directory")
	flag.Parse()
	files, err := Generate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "icons:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "icons:", err)
		os.Exit(1)
	}
	for _, name := range sortedNames(files) {
		if err := os.WriteFile(filepath.Join(*out, name), files[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "icons:", err)
			os.Exit(1)
		}
	}
}

// Generate returns every icon file keyed by file name.
func Generate() (map[string][]byte, error) {
	files := make(map[string][]byte)
	for _, st := range States {
		b, err := encodePNG(render(pngSize, scene(st, false, pngSize)))
		if err != nil {
			return nil, err
		}
		files[st+".png"] = b

		b, err = encodePNG(render(pngSize, scene(st, true, pngSize)))
		if err != nil {
			return nil, err
		}
		files[st+"-template.png"] = b

		var imgs []*image.NRGBA
		for _, sz := range icoSizes {
			imgs = append(imgs, render(sz, scene(st, false, sz)))
		}
		files[st+".ico"] = encodeICO(imgs)
	}
	return files, nil
}

func sortedNames(m map[string][]byte) []string {
	var names []string
	for _, st := range States {
		for _, suffix := range []string{".png", "-template.png", ".ico"} {
			if _, ok := m[st+suffix]; ok {
				names = append(names, st+suffix)
			}
		}
	}
	return names
}

// ---------------------------------------------------------------------------
// Geometry: signed distance functions (negative inside) in unit coordinates,
// x to the right, y down.

type vec struct{ x, y float64 }

func (a vec) add(b vec) vec        { return vec{a.x + b.x, a.y + b.y} }
func (a vec) sub(b vec) vec        { return vec{a.x - b.x, a.y - b.y} }
func (a vec) mul(k float64) vec    { return vec{a.x * k, a.y * k} }
func (a vec) dot(b vec) float64    { return a.x*b.x + a.y*b.y }
func (a vec) length() float64      { return math.Hypot(a.x, a.y) }
func (a vec) unit() vec            { return a.mul(1 / a.length()) }
func (a vec) perp() vec            { return vec{-a.y, a.x} } // turned 90° clockwise on screen (y down)
func polar(r, theta float64) vec   { return vec{r * math.Cos(theta), r * math.Sin(theta)} }
func deg(d float64) float64        { return d * math.Pi / 180 }
func lerp(a, b, t float64) float64 { return a + (b-a)*t }

type shape func(p vec) float64

func circle(c vec, r float64) shape {
	return func(p vec) float64 { return p.sub(c).length() - r }
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b vec) float64 {
	ab, ap := b.sub(a), p.sub(a)
	t := math.Max(0, math.Min(1, ap.dot(ab)/ab.dot(ab)))
	return p.sub(a.add(ab.mul(t))).length()
}

// capsule is a stroke of half-width hw along ab with round caps.
func capsule(a, b vec, hw float64) shape {
	return func(p vec) float64 { return segDist(p, a, b) - hw }
}

// polygon is a simple polygon (either winding).
func polygon(pts ...vec) shape {
	return func(p vec) float64 {
		d := math.Inf(1)
		inside := false
		for i := range pts {
			a, b := pts[i], pts[(i+1)%len(pts)]
			d = math.Min(d, segDist(p, a, b))
			if (a.y > p.y) != (b.y > p.y) && p.x < a.x+(p.y-a.y)*(b.x-a.x)/(b.y-a.y) {
				inside = !inside
			}
		}
		if inside {
			return -d
		}
		return d
	}
}

// bar is a rectangle of half-width hw centred on the segment ab (square ends).
func bar(a, b vec, hw float64) shape {
	n := b.sub(a).unit().perp().mul(hw)
	return polygon(a.add(n), b.add(n), b.sub(n), a.sub(n))
}

// arc is a stroke of half-width hw along the circle (c, r) from angle a0 to
// a1 (radians, clockwise on screen, a0 < a1).
func arc(c vec, r, hw, a0, a1 float64) shape {
	return func(p vec) float64 {
		q := p.sub(c)
		t := math.Atan2(q.y, q.x)
		for t < a0 {
			t += 2 * math.Pi
		}
		// Distance to the nearer flat end of the stroke.
		e0, e1 := polar(r, a0), polar(r, a1)
		d0 := segDist(q, e0.sub(e0.unit().mul(hw)), e0.add(e0.unit().mul(hw)))
		d1 := segDist(q, e1.sub(e1.unit().mul(hw)), e1.add(e1.unit().mul(hw)))
		ends := math.Min(d0, d1)
		if t > a1 {
			return ends // outside the angular range
		}
		ring := math.Abs(q.length()-r) - hw
		if ring > 0 {
			return ring
		}
		return math.Max(ring, -ends) // inside: the boundary is the ring or an end
	}
}

func union(ss ...shape) shape {
	return func(p vec) float64 {
		d := math.Inf(1)
		for _, s := range ss {
			d = math.Min(d, s(p))
		}
		return d
	}
}

func subtract(a, b shape) shape {
	return func(p vec) float64 { return math.Max(a(p), -b(p)) }
}

func grow(s shape, by float64) shape {
	return func(p vec) float64 { return s(p) - by }
}

// ---------------------------------------------------------------------------
// The picture.

// paint gives the colour of a layer at a point; alpha 0 clears (knock-out).
type paint func(p vec) color.NRGBA

func solid(c color.NRGBA) paint { return func(vec) color.NRGBA { return c } }

// vgrad is a vertical gradient from top (y=y0) to bottom (y=y1).
func vgrad(top, bottom color.NRGBA, y0, y1 float64) paint {
	return func(p vec) color.NRGBA {
		t := math.Max(0, math.Min(1, (p.y-y0)/(y1-y0)))
		return color.NRGBA{
			R: uint8(math.Round(lerp(float64(top.R), float64(bottom.R), t))),
			G: uint8(math.Round(lerp(float64(top.G), float64(bottom.G), t))),
			B: uint8(math.Round(lerp(float64(top.B), float64(bottom.B), t))),
			A: uint8(math.Round(lerp(float64(top.A), float64(bottom.A), t))),
		}
	}
}

type layer struct {
	s shape
	c paint
}

var (
	clear    = color.NRGBA{}
	black    = color.NRGBA{A: 255}
	white    = color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	outline  = color.NRGBA{R: 0x1f, G: 0x29, B: 0x37, A: 255} // slate, readable on light and dark panels
	keyLight = color.NRGBA{R: 0xf5, G: 0xf6, B: 0xf8, A: 255}
	keyDark  = color.NRGBA{R: 0xa8, G: 0xb0, B: 0xbc, A: 255}
)

// badgeColours are (top, bottom) gradient colours per state.
var badgeColours = map[string][2]color.NRGBA{
	"ok":         {{R: 0x34, G: 0xc7, B: 0x59, A: 255}, {R: 0x15, G: 0x80, B: 0x3d, A: 255}}, // green
	"refreshing": {{R: 0x4f, G: 0x8c, B: 0xf7, A: 255}, {R: 0x1d, G: 0x4e, B: 0xd8, A: 255}}, // blue
	"signin":     {{R: 0xfb, G: 0xbf, B: 0x24, A: 255}, {R: 0xd9, G: 0x77, B: 0x06, A: 255}}, // amber
	"error":      {{R: 0xf8, G: 0x55, B: 0x55, A: 255}, {R: 0xb9, G: 0x1c, B: 0x1c, A: 255}}, // red
}

// Key geometry.
var (
	bowC   = vec{0.28, 0.665}
	tipC   = vec{0.86, 0.14}
	shaftU = tipC.sub(bowC).unit() // along the shaft, towards the upper right tip
	teethN = shaftU.perp()         // across the shaft, towards the lower right
	badgeC = vec{0.75, 0.75}       // state badge centre
	badgeR = 0.235                 // state badge radius
)

func keyShape() shape {
	const (
		bowR   = 0.205
		holeR  = 0.072
		shaftW = 0.06 // half-width
	)
	along := func(d float64) vec { return bowC.add(shaftU.mul(d)) }
	tooth := func(d, w, l float64) shape {
		a := along(d)
		return bar(a, a.add(teethN.mul(l)), w/2)
	}
	bow := subtract(circle(bowC, bowR), circle(bowC.add(vec{-0.04, 0.04}), holeR))
	shaft := bar(along(0.12), tipC, shaftW)
	l := tipC.sub(bowC).length()
	return union(bow, shaft, tooth(l-0.20, 0.085, 0.16), tooth(l-0.08, 0.075, 0.12))
}

// badgeGeometry returns the state badge's centre and radius. Below 24 px
// the badge grows so that the state stays readable in a 16 px tray slot.
func badgeGeometry(size int) (c vec, r float64) {
	if size < 24 {
		return vec{0.69, 0.69}, 0.305
	}
	return vec{0.75, 0.75}, 0.235
}

func symbol(state string, badgeC vec, r float64) shape {
	at := func(x, y float64) vec { return badgeC.add(vec{x * r, y * r}) }
	switch state {
	case "ok":
		hw := 0.14 * r
		a, b, c := at(-0.46, 0.02), at(-0.14, 0.34), at(0.46, -0.30)
		return union(capsule(a, b, hw), capsule(b, c, hw))
	case "refreshing":
		rr, hw := 0.50*r, 0.115*r
		var parts []shape
		for _, base := range []float64{deg(195), deg(15)} {
			a0, a1 := base, base+deg(118)
			parts = append(parts, arc(badgeC, rr, hw, a0, a1))
			// Arrowhead at a1, pointing clockwise along the circle.
			p := badgeC.add(polar(rr, a1))
			radial := polar(1, a1)
			tangent := radial.perp() // direction of increasing angle: clockwise
			h := 0.30 * r
			parts = append(parts, polygon(
				p.add(radial.mul(h)).sub(tangent.mul(0.02*r)),
				p.add(tangent.mul(0.36*r)),
				p.sub(radial.mul(h)).sub(tangent.mul(0.02*r)),
			))
		}
		return union(parts...)
	case "signin":
		hw := 0.13 * r
		return union(capsule(at(0, -0.50), at(0, 0.12), hw), circle(at(0, 0.46), 0.15*r))
	case "error":
		hw := 0.14 * r
		d := 0.38
		return union(capsule(at(-d, -d), at(d, d), hw), capsule(at(-d, d), at(d, -d), hw))
	}
	panic("unknown state " + state)
}

// scene returns the layers, bottom first. template selects the macOS
// variant: one colour (black) with the badge symbol knocked out.
func scene(state string, template bool, size int) []layer {
	key := keyShape()
	stroke := math.Max(0.028, 0.9/float64(size)) // keep the outline near a pixel wide at 16 px
	gap := math.Max(0.045, 1.0/float64(size))    // transparent ring around the badge
	badgeC, badgeR := badgeGeometry(size)
	badge := circle(badgeC, badgeR)
	if template {
		return []layer{
			{grow(key, stroke), solid(black)},
			{circle(badgeC, badgeR+gap), solid(clear)},
			{badge, solid(black)},
			{symbol(state, badgeC, badgeR), solid(clear)},
		}
	}
	bc := badgeColours[state]
	return []layer{
		{grow(key, stroke), solid(outline)},
		{key, vgrad(keyLight, keyDark, 0.1, 0.9)},
		{circle(badgeC, badgeR+gap), solid(clear)},
		{grow(badge, stroke*0.6), solid(outline)},
		{badge, vgrad(bc[0], bc[1], badgeC.y-badgeR, badgeC.y+badgeR)},
		{symbol(state, badgeC, badgeR), solid(white)},
	}
}

// ---------------------------------------------------------------------------
// Rasteriser: for each of supersamp² sample points per pixel the topmost
// layer containing the point decides its colour; the pixel is the average
// of the samples in premultiplied space. Sampling the topmost layer per
// sample (rather than blending per-layer coverage) avoids seams where two
// layers share an edge.
//
// Every shape function is a lower bound of the distance to its boundary,
// so when no boundary is within half a pixel diagonal of the pixel centre
// all samples agree and the centre sample stands for them (the paints are
// linear, so the centre colour is the average too).

func render(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	halfDiag := math.Sqrt2 / 2 / float64(size) * 1.01
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			centre := vec{(float64(px) + 0.5) / float64(size), (float64(py) + 0.5) / float64(size)}
			steps := 1
			for _, l := range layers {
				if math.Abs(l.s(centre)) <= halfDiag {
					steps = supersamp
					break
				}
			}
			n := float64(steps * steps)
			var r, g, b, a float64
			for sy := 0; sy < steps; sy++ {
				for sx := 0; sx < steps; sx++ {
					p := vec{
						(float64(px) + (float64(sx)+0.5)/float64(steps)) / float64(size),
						(float64(py) + (float64(sy)+0.5)/float64(steps)) / float64(size),
					}
					for i := len(layers) - 1; i >= 0; i-- {
						if layers[i].s(p) <= 0 {
							c := layers[i].c(p)
							ca := float64(c.A) / 255
							r += float64(c.R) * ca
							g += float64(c.G) * ca
							b += float64(c.B) * ca
							a += ca
							break
						}
					}
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)),
				G: uint8(math.Round(g / a)),
				B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	return img
}

// ---------------------------------------------------------------------------
// Encoders.

func encodePNG(img image.Image) ([]byte, error) {
	// Force 8-bit RGBA output (png writes *image.NRGBA as colour type 6).
	nrgba := image.NewNRGBA(img.Bounds())
	draw.Draw(nrgba, nrgba.Bounds(), img, img.Bounds().Min, draw.Src)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, nrgba); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeICO writes an ICO file with one 32-bit BMP (DIB) entry per image.
// BMP entries load everywhere LoadImage does (PNG entries need Vista+ and
// are not accepted by every consumer). Each DIB is a BITMAPINFOHEADER with
// doubled height, bottom-up BGRA rows (straight alpha), then the 1-bit AND
// mask (1 = transparent), rows padded to 32 bits.
func encodeICO(imgs []*image.NRGBA) []byte {
	le := binary.LittleEndian
	var dibs [][]byte
	for _, img := range imgs {
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		maskStride := ((w + 31) / 32) * 4
		pixels := w * h * 4
		dib := make([]byte, 40+pixels+maskStride*h)
		le.PutUint32(dib[0:], 40)
		le.PutUint32(dib[4:], uint32(w))
		le.PutUint32(dib[8:], uint32(2*h))
		le.PutUint16(dib[12:], 1)  // planes
		le.PutUint16(dib[14:], 32) // bits per pixel
		le.PutUint32(dib[16:], 0)  // BI_RGB
		le.PutUint32(dib[20:], uint32(pixels+maskStride*h))
		off := 40
		for y := h - 1; y >= 0; y-- {
			for x := 0; x < w; x++ {
				c := img.NRGBAAt(x, y)
				dib[off], dib[off+1], dib[off+2], dib[off+3] = c.B, c.G, c.R, c.A
				off += 4
			}
		}
		for y := h - 1; y >= 0; y-- {
			row := dib[off : off+maskStride]
			for x := 0; x < w; x++ {
				if img.NRGBAAt(x, y).A == 0 {
					row[x/8] |= 0x80 >> (x % 8)
				}
			}
			off += maskStride
		}
		dibs = append(dibs, dib)
	}

	var buf bytes.Buffer
	hdr := make([]byte, 6+16*len(imgs))
	le.PutUint16(hdr[0:], 0) // reserved
	le.PutUint16(hdr[2:], 1) // type: icon
	le.PutUint16(hdr[4:], uint16(len(imgs)))
	offset := len(hdr)
	for i, img := range imgs {
		e := hdr[6+16*i:]
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		e[0], e[1] = byte(w%256), byte(h%256) // 0 means 256
		e[2], e[3] = 0, 0                     // no palette, reserved
		le.PutUint16(e[4:], 1)                // planes
		le.PutUint16(e[6:], 32)               // bits per pixel
		le.PutUint32(e[8:], uint32(len(dibs[i])))
		le.PutUint32(e[12:], uint32(offset))
		offset += len(dibs[i])
	}
	buf.Write(hdr)
	for _, d := range dibs {
		buf.Write(d)
	}
	return buf.Bytes()
}
