package assets

import (
	"bytes"
	"encoding/binary"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/app/page"
)

var states = []string{StateOK, StateRefreshing, StateSignIn, StateError}

func decodePNG(t *testing.T, b []byte) *image.NRGBA {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG (starts %q)", b[:min(8, len(b))])
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ColorModel != color.NRGBAModel {
		t.Errorf("colour model %v, want 8-bit RGBA (NRGBA)", cfg.ColorModel)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		t.Fatalf("decoded as %T, want *image.NRGBA", img)
	}
	return n
}

// alphaSpread checks that the icon has transparent, opaque and partly
// transparent (anti-aliased) pixels.
func alphaSpread(t *testing.T, img *image.NRGBA) {
	t.Helper()
	var clear, opaque, partial int
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			switch a := img.NRGBAAt(x, y).A; {
			case a == 0:
				clear++
			case a == 255:
				opaque++
			default:
				partial++
			}
		}
	}
	if clear == 0 || opaque == 0 || partial == 0 {
		t.Errorf("alpha: %d clear, %d opaque, %d partial pixels; want some of each", clear, opaque, partial)
	}
}

func TestLinuxPNG(t *testing.T) {
	seen := map[string]string{}
	for _, st := range states {
		b := Icon(st, "linux")
		img := decodePNG(t, b)
		if got := img.Bounds(); got != image.Rect(0, 0, 64, 64) {
			t.Errorf("%s: bounds %v, want 64×64", st, got)
		}
		alphaSpread(t, img)
		// A colour icon: some pixels are clearly not grey.
		coloured := false
		for i := 0; i+3 < len(img.Pix); i += 4 {
			r, g, b := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2])
			if img.Pix[i+3] == 255 && max(r, g, b)-min(r, g, b) > 80 {
				coloured = true
				break
			}
		}
		if !coloured {
			t.Errorf("%s: no saturated pixels; the state badge is missing", st)
		}
		if other, dup := seen[string(b)]; dup {
			t.Errorf("%s and %s are the same icon", st, other)
		}
		seen[string(b)] = st
	}
	if !bytes.Equal(Icon(StateOK, "freebsd"), Icon(StateOK, "linux")) {
		t.Error("other unix systems should get the Linux PNG")
	}
}

func TestDarwinTemplate(t *testing.T) {
	for _, st := range states {
		img := decodePNG(t, Icon(st, "darwin"))
		if got := img.Bounds(); got != image.Rect(0, 0, 64, 64) {
			t.Errorf("%s: bounds %v, want 64×64", st, got)
		}
		alphaSpread(t, img)
		for y := 0; y < 64; y++ {
			for x := 0; x < 64; x++ {
				if c := img.NRGBAAt(x, y); c.R != 0 || c.G != 0 || c.B != 0 {
					t.Fatalf("%s: pixel (%d,%d) = %v; a template must be black with alpha only", st, x, y, c)
				}
			}
		}
	}
}

// icoImages parses an ICO file with 32-bit BMP entries.
func icoImages(t *testing.T, b []byte) []*image.NRGBA {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 6 {
		t.Fatalf("ICO too short: %d bytes", len(b))
	}
	if reserved, typ := le.Uint16(b[0:]), le.Uint16(b[2:]); reserved != 0 || typ != 1 {
		t.Fatalf("ICO header reserved=%d type=%d, want 0, 1", reserved, typ)
	}
	n := int(le.Uint16(b[4:]))
	if len(b) < 6+16*n {
		t.Fatalf("ICO directory truncated")
	}
	var imgs []*image.NRGBA
	for i := 0; i < n; i++ {
		e := b[6+16*i:]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		planes, bpp := le.Uint16(e[4:]), le.Uint16(e[6:])
		size, off := int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if planes != 1 || bpp != 32 {
			t.Errorf("entry %d: planes %d bpp %d, want 1, 32", i, planes, bpp)
		}
		if off < 6+16*n || off+size > len(b) {
			t.Fatalf("entry %d: data [%d, %d) outside file of %d bytes", i, off, off+size, len(b))
		}
		d := b[off : off+size]
		if bytes.HasPrefix(d, []byte("\x89PNG")) {
			t.Fatalf("entry %d: PNG entry; this generator writes BMP entries", i)
		}
		if le.Uint32(d[0:]) != 40 {
			t.Fatalf("entry %d: DIB header size %d, want 40", i, le.Uint32(d[0:]))
		}
		dw, dh := int(int32(le.Uint32(d[4:]))), int(int32(le.Uint32(d[8:])))
		if dw != w || dh != 2*h {
			t.Errorf("entry %d: DIB %d×%d, want %d×%d (height doubled for the mask)", i, dw, dh, w, 2*h)
		}
		if le.Uint16(d[12:]) != 1 || le.Uint16(d[14:]) != 32 || le.Uint32(d[16:]) != 0 {
			t.Errorf("entry %d: DIB planes/bpp/compression = %d/%d/%d, want 1/32/0", i, le.Uint16(d[12:]), le.Uint16(d[14:]), le.Uint32(d[16:]))
		}
		maskStride := (w + 31) / 32 * 4
		if want := 40 + w*h*4 + maskStride*h; size != want {
			t.Fatalf("entry %d: %d bytes, want %d", i, size, want)
		}
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		p := 40
		for y := h - 1; y >= 0; y-- {
			for x := 0; x < w; x++ {
				img.SetNRGBA(x, y, color.NRGBA{R: d[p+2], G: d[p+1], B: d[p], A: d[p+3]})
				p += 4
			}
		}
		// The AND mask marks exactly the fully transparent pixels.
		for y := h - 1; y >= 0; y-- {
			for x := 0; x < w; x++ {
				masked := d[p+x/8]&(0x80>>(x%8)) != 0
				if masked != (img.NRGBAAt(x, y).A == 0) {
					t.Fatalf("entry %d: AND mask at (%d,%d) = %v, alpha %d", i, x, y, masked, img.NRGBAAt(x, y).A)
				}
			}
			p += maskStride
		}
		imgs = append(imgs, img)
	}
	return imgs
}

func TestWindowsICO(t *testing.T) {
	for _, st := range states {
		imgs := icoImages(t, Icon(st, "windows"))
		var sizes []int
		for _, img := range imgs {
			if img.Bounds().Dx() != img.Bounds().Dy() {
				t.Errorf("%s: non-square entry %v", st, img.Bounds())
			}
			sizes = append(sizes, img.Bounds().Dx())
			alphaSpread(t, img)
		}
		if len(sizes) != 3 || sizes[0] != 16 || sizes[1] != 32 || sizes[2] != 48 {
			t.Errorf("%s: entry sizes %v, want [16 32 48]", st, sizes)
		}
	}
}

func TestUnknownState(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		if b := Icon("bogus", goos); b != nil {
			t.Errorf("Icon(bogus, %s) = %d bytes, want nil", goos, len(b))
		}
		if b := Icon("", goos); b != nil {
			t.Errorf("Icon(\"\", %s) = %d bytes, want nil", goos, len(b))
		}
	}
}

// signinData is what the page server renders the template with.
type signinData = page.PageData

const testStatic = "/SECRET/static/"

func renderSignin(t *testing.T, d signinData) string {
	t.Helper()
	tmpl, err := template.ParseFS(Pages, "pages/signin.html")
	if err != nil {
		t.Fatal(err)
	}
	if d.StaticPath == "" {
		d.StaticPath = testStatic
	}
	if d.Outcome.State == "" {
		d.Outcome.State = page.StateWaiting
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, d); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestSigninPage(t *testing.T) {
	out := renderSignin(t, signinData{
		Feed:            "contoso",
		UserCode:        "ABCD-EFGH",
		VerificationURL: "https://microsoft.com/devicelogin",
		CSRF:            "tok3n",
		PostPath:        "/signin/contoso/done",
	})
	for _, want := range []string{
		`<code id="user-code" class="code">ABCD-EFGH</code>`,
		`id="copy"`,
		`href="https://microsoft.com/devicelogin"`,
		`<form method="post" action="/signin/contoso/done">`,
		`<input type="hidden" name="csrf" value="tok3n">`,
		`<script src="` + testStatic + `signin.js" defer></script>`,
		`<link rel="stylesheet" href="` + testStatic + `signin.css">`,
		`contoso`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %s\n%s", want, out)
		}
	}

	// Strict CSP: no inline script, handlers or style.
	for _, tag := range regexp.MustCompile(`(?i)<script[^>]*>`).FindAllString(out, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("inline script %s", tag)
		}
	}
	if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(out); m != "" {
		t.Errorf("inline event handler %q", m)
	}
	if m := regexp.MustCompile(`(?i)<style|\sstyle\s*=`).FindString(out); m != "" {
		t.Errorf("inline style %q", m)
	}

	// Every static file the page references is served by Static.
	for _, m := range regexp.MustCompile(`(?:src|href)="`+testStatic+`([^"]+)"`).FindAllStringSubmatch(out, -1) {
		f, err := Static().Open(m[1])
		if err != nil {
			t.Errorf("page references %s: %v", m[0], err)
			continue
		}
		b, _ := io.ReadAll(f)
		f.Close()
		if len(b) == 0 {
			t.Errorf("%s is empty", m[1])
		}
	}
}

// TestSigninPageOutcomes: a page loaded after the sign-in ended shows the
// outcome, not the code to enter; a failure's message is escaped.
func TestSigninPageOutcomes(t *testing.T) {
	for _, tc := range []struct {
		outcome page.Outcome
		want    string
	}{
		{page.Outcome{State: page.StateDone}, "You can close this tab"},
		{page.Outcome{State: page.StateDenied}, "declined"},
		{page.Outcome{State: page.StateExpired}, "The code expired"},
		{page.Outcome{State: page.StateFailed, Message: "<b>server said no</b>"}, "&lt;b&gt;server said no&lt;/b&gt;"},
	} {
		out := renderSignin(t, signinData{Feed: "contoso", UserCode: "ABCD", VerificationURL: "https://x.example/", Outcome: tc.outcome})
		if !strings.Contains(out, tc.want) || !strings.Contains(out, `id="steps" hidden`) || !strings.Contains(out, `data-state="`+tc.outcome.State+`"`) {
			t.Errorf("%s: page lacks %q or still shows the steps:\n%s", tc.outcome.State, tc.want, out)
		}
	}
}

func TestSigninPageEscapes(t *testing.T) {
	out := renderSignin(t, signinData{
		Feed:            `<b>x</b>`,
		UserCode:        `<img src=x>`,
		VerificationURL: "javascript:alert(1)",
		CSRF:            `"><script>`,
		PostPath:        "/p",
	})
	for _, bad := range []string{"<b>x</b>", "<img src=x>", `href="javascript:`, `"><script>`} {
		if strings.Contains(out, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
}

func TestStaticServesOnlyAssets(t *testing.T) {
	for _, name := range []string{"signin.js", "signin.css"} {
		if _, err := fs.Stat(Static(), name); err != nil {
			t.Errorf("Static: %s: %v", name, err)
		}
	}
	for _, name := range []string{"signin.html", "../assets.go", ".", "pages/signin.js"} {
		if f, err := Static().Open(name); err == nil {
			f.Close()
			t.Errorf("Static serves %q", name)
		}
	}
}
