// Package pykeyring speaks Python keyring's command line, which pip, uv and
// pixi run as `keyring`: its arguments, its usage and help texts, and the
// layout of its answers. The helper's quick path and its full one
// (package keyringcli) share it.
//
// Parse accepts exactly what upstream's parser accepts: the argparse parser
// built by CommandLineTool in jaraco/keyring keyring/cli.py (v25.7.0),
// without the optional shtab extra, as parsed by CPython's current argparse
// (Lib/argparse.py of 3.15). Older Pythons differ in details: up to 3.13
// the choices are quoted ("choose from 'password', 'creds'"), suggestions
// ("maybe you meant 'creds'?") are on by default only from 3.15, and
// 3.13.0 and earlier reject "get --mode creds URL" (unrecognized
// arguments: URL), letting the '?' positionals match nothing before an
// option.
// It then applies the checks that CommandLineTool.run makes before doing
// anything, so an error here is exactly one upstream reports with exit
// status 2.
package pykeyring

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Args is a parsed keyring command line.
type Args struct {
	Operation               string // "get", "set", "del", "diagnose" or "" (none given)
	Service                 string
	Username                string
	HasService, HasUsername bool   // whether given (an empty string argument is still "given")
	Mode                    string // "password" or "creds"
	Output                  string // "plain" or "json"
	ListBackends            bool
	Disable                 bool
	Help                    bool // -h/--help: print Help() to stdout and exit 0
	// PrintCompletion is the shell named by --print-completion. When it is
	// set, parsing stopped there: upstream without its completion extra
	// prints "Install keyring[completion] for completion support." to
	// stderr and exits 1.
	PrintCompletion             string
	KeyringPath, KeyringBackend string
}

// A UsageError is a command line upstream rejects. Msg is the text after
// "keyring: error: "; the caller prints Usage() and then that line to
// stderr, and exits with status 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usage returns the usage lines argparse prints before an error, for the
// default 78-column layout (COLUMNS unset, output not a terminal).
func Usage() string {
	return `usage: keyring [-h] [-p KEYRING_PATH] [-b KEYRING_BACKEND] [--list-backends]
               [--disable] [--mode {password,creds}] [--output {plain,json}]
               [--print-completion {bash,zsh,tcsh}]
               [{get,set,del,diagnose}] [service] [username]
`
}

// Help returns the text of keyring -h, in the layout of Usage.
func Help() string {
	return Usage() + `
positional arguments:
  {get,set,del,diagnose}
  service
  username

options:
  -h, --help            show this help message and exit
  -p, --keyring-path KEYRING_PATH
                        Path to the keyring backend
  -b, --keyring-backend KEYRING_BACKEND
                        Name of the keyring backend
  --list-backends       List keyring backends and exit
  --disable             Disable keyring and exit
  --mode {password,creds}
                        Mode for 'get' operation. 'password' requires a
                        username and will return only the password. 'creds'
                        does not require a username and will return both the
                        username and password separated by a newline. Default
                        is 'password'
  --output {plain,json}
                        Output format for 'get' operation. Default is 'plain'
  --print-completion {bash,zsh,tcsh}
                        print shell completion script
`
}

// A cliOption is one of upstream's optional arguments.
type cliOption struct {
	flags   []string // option strings, in upstream's order
	nargs   int      // 0: a flag; 1: takes one value
	choices []string
}

var (
	optHelp            = &cliOption{flags: []string{"-h", "--help"}}
	optPath            = &cliOption{flags: []string{"-p", "--keyring-path"}, nargs: 1}
	optBackend         = &cliOption{flags: []string{"-b", "--keyring-backend"}, nargs: 1}
	optListBackends    = &cliOption{flags: []string{"--list-backends"}}
	optDisable         = &cliOption{flags: []string{"--disable"}}
	optMode            = &cliOption{flags: []string{"--mode"}, nargs: 1, choices: []string{"password", "creds"}}
	optOutput          = &cliOption{flags: []string{"--output"}, nargs: 1, choices: []string{"plain", "json"}}
	optPrintCompletion = &cliOption{flags: []string{"--print-completion"}, nargs: 1, choices: []string{"bash", "zsh", "tcsh"}}

	// cliOptions is in upstream's order of definition, which decides the
	// order of the candidates listed for an ambiguous abbreviation.
	cliOptions = []*cliOption{optHelp, optPath, optBackend, optListBackends, optDisable, optMode, optOutput, optPrintCompletion}

	cliOperations = []string{"get", "set", "del", "diagnose"}
)

// name is the option's name in error messages, e.g. "-p/--keyring-path".
func (o *cliOption) name() string { return strings.Join(o.flags, "/") }

func cliLookupFlag(flag string) *cliOption {
	for _, o := range cliOptions {
		for _, f := range o.flags {
			if f == flag {
				return o
			}
		}
	}
	return nil
}

// A cliMatch is one reading of an option-like argument (argparse's
// "option tuple").
type cliMatch struct {
	opt      *cliOption // nil: looks like an option but is none of ours
	flag     string
	eq       bool // the value was attached with '='
	hasValue bool // a value was attached to the flag, possibly empty
	value    string
}

// Parse parses argv (without the program name) as upstream does. It
// returns a *UsageError for anything upstream rejects. When Help or
// PrintCompletion is set in the result, parsing stopped there and the
// other fields are left at their defaults.
func Parse(argv []string) (Args, error) {
	p := &cliParser{
		argv:    argv,
		matches: make(map[int][]cliMatch),
		args:    Args{Mode: "password", Output: "plain"},
	}
	if err := p.parse(); err != nil {
		return Args{}, err
	}
	if p.stopped {
		return p.args, nil
	}
	if len(p.extras) > 0 {
		return Args{}, cliErrorf("unrecognized arguments: %s", strings.Join(p.extras, " "))
	}
	if err := cliCheckArgs(p.args); err != nil {
		return Args{}, err
	}
	return p.args, nil
}

// cliCheckArgs applies CommandLineTool.run's checks after parsing:
// _check_args, then invalid_op when no operation was given. (Upstream
// loads the -b backend between the two, which can fail first.)
func cliCheckArgs(a Args) error {
	if a.ListBackends || a.Disable || a.Operation == "diagnose" {
		return nil
	}
	if a.Operation == "" {
		return cliErrorf("Specify operation (%s).", strings.Join(cliOperations, ", "))
	}
	if a.Operation == "get" && a.Mode == "creds" {
		if !a.HasService {
			return cliErrorf("get requires service")
		}
		return nil
	}
	if !a.HasService || !a.HasUsername {
		return cliErrorf("%s requires service and username", a.Operation)
	}
	return nil
}

func cliErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// cliParser follows argparse's _parse_known_args: it classifies every
// argument, then consumes positionals and options alternately, left to
// right, taking each action as it goes.
type cliParser struct {
	argv    []string
	pattern []byte // per argument: 'O' an option, 'A' an argument, '-' the first "--"
	matches map[int][]cliMatch
	args    Args
	extras  []string // unrecognized arguments
	nextPos int      // index of the next positional to fill: operation, service, username
	stopped bool     // -h or --print-completion was taken
}

func (p *cliParser) parse() error {
	p.pattern = make([]byte, len(p.argv))
	lastOpt := -1
	for i, arg := range p.argv {
		if arg == "--" {
			p.pattern[i] = '-'
			for j := i + 1; j < len(p.argv); j++ {
				p.pattern[j] = 'A'
			}
			break
		}
		if m := cliParseOptional(arg); m != nil {
			p.matches[i] = m
			p.pattern[i] = 'O'
			lastOpt = i
		} else {
			p.pattern[i] = 'A'
		}
	}

	i := 0
	for i <= lastOpt && !p.stopped {
		next := i
		for p.pattern[next] != 'O' {
			next++
		}
		if i != next {
			end, err := p.consumePositionals(i)
			if err != nil {
				return err
			}
			if end > i {
				i = end
				continue
			}
		}
		if p.pattern[i] != 'O' {
			p.extras = append(p.extras, p.argv[i:next]...)
			i = next
		}
		var err error
		if i, err = p.consumeOptional(i); err != nil {
			return err
		}
	}
	if p.stopped {
		return nil
	}
	end, err := p.consumePositionals(i)
	if err != nil {
		return err
	}
	p.extras = append(p.extras, p.argv[end:]...)
	return nil
}

// cliParseOptional reports how an argument reads as an option, or nil if it
// is a positional argument (argparse's _parse_optional).
func cliParseOptional(arg string) []cliMatch {
	if arg == "" || arg[0] != '-' {
		return nil
	}
	if o := cliLookupFlag(arg); o != nil {
		return []cliMatch{{opt: o, flag: arg}}
	}
	if len(arg) == 1 {
		return nil
	}
	flag, value, eq := strings.Cut(arg, "=")
	if o := cliLookupFlag(flag); eq && o != nil {
		return []cliMatch{{opt: o, flag: flag, eq: true, hasValue: true, value: value}}
	}
	if m := cliPrefixMatches(arg); len(m) > 0 {
		return m
	}
	if cliLooksNegative(arg) || strings.Contains(arg, " ") {
		return nil
	}
	return []cliMatch{{flag: arg}}
}

// cliPrefixMatches lists the options that arg abbreviates, and for a
// single-dash arg also the short option its first two characters name,
// with the rest as its value (argparse's _get_option_tuples with
// allow_abbrev=True).
func cliPrefixMatches(arg string) []cliMatch {
	prefix, value, eq := strings.Cut(arg, "=")
	var result []cliMatch
	for _, o := range cliOptions {
		for _, f := range o.flags {
			switch {
			case arg[1] != '-' && f == arg[:2]:
				result = append(result, cliMatch{opt: o, flag: f, hasValue: true, value: arg[2:]})
			case strings.HasPrefix(f, prefix):
				result = append(result, cliMatch{opt: o, flag: f, eq: eq, hasValue: eq, value: value})
			}
		}
	}
	return result
}

// cliLooksNegative reports whether arg matches argparse's
// _negative_number_matcher, the regexp `-\.?\d` (at the start).
func cliLooksNegative(arg string) bool {
	s := strings.TrimPrefix(arg[1:], ".")
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsDigit(r)
}

// consumeOptional takes the option at argv[i], with a value attached or
// following it, and any short flags clustered with it (as in "-hp X").
// It returns the index after what it consumed.
func (p *cliParser) consumeOptional(i int) (int, error) {
	matches := p.matches[i]
	if len(matches) > 1 {
		flags := make([]string, len(matches))
		for k, m := range matches {
			flags[k] = m.flag
		}
		return 0, cliErrorf("ambiguous option: %s could match %s", p.argv[i], strings.Join(flags, ", "))
	}
	m := matches[0]
	if m.opt == nil {
		p.extras = append(p.extras, p.argv[i])
		return i + 1, nil
	}

	type taken struct {
		opt   *cliOption
		value string
	}
	var actions []taken
	stop := i + 1
	for {
		if !m.hasValue {
			if m.opt.nargs == 1 {
				if i+1 >= len(p.argv) || p.pattern[i+1] != 'A' {
					return 0, cliErrorf("argument %s: expected one argument", m.opt.name())
				}
				stop = i + 2
				actions = append(actions, taken{m.opt, p.argv[i+1]})
			} else {
				actions = append(actions, taken{opt: m.opt})
			}
			break
		}
		if m.opt.nargs == 1 {
			actions = append(actions, taken{m.opt, m.value})
			break
		}
		// A flag with something attached: "-hp" is "-h -p", but
		// "--disable=x", "-h=x" and "-h-" are errors.
		if m.flag[1] == '-' || m.value == "" || m.eq || m.value[0] == '-' {
			return 0, cliErrorf("argument %s: ignored explicit argument %s", m.opt.name(), pyRepr(m.value))
		}
		actions = append(actions, taken{opt: m.opt})
		next := "-" + m.value[:1]
		o := cliLookupFlag(next)
		if o == nil {
			p.extras = append(p.extras, "-"+m.value)
			break
		}
		m = cliMatch{opt: o, flag: next, hasValue: len(m.value) > 1, value: m.value[1:]}
		if rest, ok := strings.CutPrefix(m.value, "="); ok {
			m.eq, m.value = true, rest
		}
	}

	for _, a := range actions {
		if err := p.takeOption(a.opt, a.value); err != nil || p.stopped {
			return stop, err
		}
	}
	return stop, nil
}

func (p *cliParser) takeOption(o *cliOption, value string) error {
	if err := cliCheckChoice(o.name(), o.choices, value); err != nil {
		return err
	}
	switch o {
	case optHelp:
		p.args = Args{Help: true, Mode: "password", Output: "plain"}
		p.stopped = true
	case optPrintCompletion:
		p.args = Args{PrintCompletion: value, Mode: "password", Output: "plain"}
		p.stopped = true
	case optPath:
		p.args.KeyringPath = value
	case optBackend:
		p.args.KeyringBackend = value
	case optListBackends:
		p.args.ListBackends = true
	case optDisable:
		p.args.Disable = true
	case optMode:
		p.args.Mode = value
	case optOutput:
		p.args.Output = value
	}
	return nil
}

// matchOptionals returns how many of the leading arguments in pattern each
// of n '?' positionals takes, as argparse's _match_arguments_partial does
// with the regexp (-*A?-*) repeated n times. Every group may match nothing
// and nothing follows them, so the leftmost-first match is the greedy one,
// group by group: "--" markers, at most one argument, "--" markers. (The
// helper starts once per lookup: compiling the regexps cost it 0.05 ms.)
// It also returns where the match ends.
func matchOptionals(pattern []byte, n int) (counts []int, end int) {
	counts = make([]int, n)
	for k := range counts {
		start := end
		for end < len(pattern) && pattern[end] == '-' {
			end++
		}
		if end < len(pattern) && pattern[end] == 'A' {
			end++
		}
		for end < len(pattern) && pattern[end] == '-' {
			end++
		}
		counts[k] = end - start
	}
	return counts, end
}

// consumePositionals fills as many of the remaining positionals as the
// arguments from argv[i] allow, and returns the index after them.
func (p *cliParser) consumePositionals(i int) (int, error) {
	left := 3 - p.nextPos
	if left == 0 {
		return i, nil
	}
	pattern := p.pattern[i:]
	counts, end := matchOptionals(pattern, left)
	// Positionals that would match nothing just before an option are
	// left for the arguments after it.
	if end < len(pattern) && pattern[end] == 'O' {
		for len(counts) > 0 && counts[len(counts)-1] == 0 {
			counts = counts[:len(counts)-1]
		}
	}
	for _, n := range counts {
		values := append([]string(nil), p.argv[i:i+n]...)
		if strings.IndexByte(string(p.pattern[i:i+n]), '-') >= 0 {
			values = cliRemoveFirst(values, "--")
		}
		i += n
		if err := p.takePositional(values); err != nil {
			return 0, err
		}
	}
	return i, nil
}

func cliRemoveFirst(values []string, s string) []string {
	for k, v := range values {
		if v == s {
			return append(values[:k], values[k+1:]...)
		}
	}
	return values
}

// takePositional fills the next positional; with no values it keeps its
// default (not given).
func (p *cliParser) takePositional(values []string) error {
	pos := p.nextPos
	p.nextPos++
	if len(values) == 0 {
		return nil
	}
	v := values[0]
	switch pos {
	case 0:
		if err := cliCheckChoice("operation", cliOperations, v); err != nil {
			return err
		}
		p.args.Operation = v
	case 1:
		p.args.Service, p.args.HasService = v, true
	case 2:
		p.args.Username, p.args.HasUsername = v, true
	}
	return nil
}

// cliCheckChoice reports a value outside choices the way argparse's
// _check_value does, suggesting the closest choice.
func cliCheckChoice(name string, choices []string, v string) error {
	if choices == nil {
		return nil
	}
	for _, c := range choices {
		if v == c {
			return nil
		}
	}
	list := strings.Join(choices, ", ")
	if c, ok := pyCloseMatch(v, choices); ok {
		return cliErrorf("argument %s: invalid choice: %s, maybe you meant %s? (choose from %s)", name, pyRepr(v), pyRepr(c), list)
	}
	return cliErrorf("argument %s: invalid choice: %s (choose from %s)", name, pyRepr(v), list)
}

// pyRunes decodes s as Python decodes argv: UTF-8, with each invalid byte
// b becoming the lone surrogate U+DC00+b (surrogateescape).
func pyRunes(s string) []rune {
	rs := make([]rune, 0, len(s))
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n == 1 {
			r = 0xDC00 + rune(s[0])
		}
		rs = append(rs, r)
		s = s[n:]
	}
	return rs
}

// pyRepr formats s as Python's repr(str) does.
func pyRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range pyRunes(s) {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case unicode.IsPrint(r) && utf8.ValidRune(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// pyCloseMatch is difflib.get_close_matches(word, choices, n=1,
// cutoff=0.6), which argparse uses for its suggestion.
func pyCloseMatch(word string, choices []string) (string, bool) {
	const cutoff = 0.6
	b := pyRunes(word)
	best, bestScore := "", -1.0
	for _, c := range choices {
		a := []rune(c)
		total := float64(len(a) + len(b))
		// real_quick_ratio, quick_ratio, then ratio, as difflib tests
		// them. The first bounds len(word), so difflib's autojunk (only
		// for 200 or more characters) never applies.
		if 2.0*float64(min(len(a), len(b)))/total < cutoff ||
			2.0*float64(pyCommonRunes(a, b))/total < cutoff {
			continue
		}
		score := 2.0 * float64(pyMatchingRunes(a, b)) / total
		// Ties go to the greater string, as with heapq.nlargest on
		// (score, choice) pairs.
		if score >= cutoff && (score > bestScore || score == bestScore && c > best) {
			best, bestScore = c, score
		}
	}
	return best, bestScore >= 0
}

// pyCommonRunes counts the runes a and b have in common, as a multiset.
func pyCommonRunes(a, b []rune) int {
	avail := make(map[rune]int)
	for _, r := range b {
		avail[r]++
	}
	n := 0
	for _, r := range a {
		if avail[r] > 0 {
			avail[r]--
			n++
		}
	}
	return n
}

// pyMatchingRunes is the total size of difflib.SequenceMatcher(None, a,
// b).get_matching_blocks(): the longest common block (the first found,
// scanning a then b), then recursively the same on each side of it.
func pyMatchingRunes(a, b []rune) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	besti, bestj, best := 0, 0, 0
	prev := make([]int, len(b)+1) // prev[j+1]: length of the match ending at a[i-1], b[j]
	for i := range a {
		cur := make([]int, len(b)+1)
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
				if cur[j+1] > best {
					besti, bestj, best = i-cur[j+1]+1, j-cur[j+1]+1, cur[j+1]
				}
			}
		}
		prev = cur
	}
	if best == 0 {
		return 0
	}
	return best + pyMatchingRunes(a[:besti], b[:bestj]) + pyMatchingRunes(a[besti+best:], b[bestj+best:])
}
