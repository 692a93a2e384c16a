package winpath

import "testing"

func TestPrepend(t *testing.T) {
	t.Parallel()
	const dir = `C:\Users\ann\AppData\Local\feedkey\bin`
	tests := []struct {
		list, want string
		changed    bool
	}{
		{"", dir, true},
		{`%USERPROFILE%\bin;C:\x`, dir + `;%USERPROFILE%\bin;C:\x`, true},
		{`C:\x;` + dir, `C:\x;` + dir, false},
		{`C:\x;c:\users\ann\appdata\local\FEEDKEY\bin\`, `C:\x;c:\users\ann\appdata\local\FEEDKEY\bin\`, false},
		{`C:\x;;`, dir + `;C:\x;;`, true},
		{`C:\Users\ann\AppData\Local\feedkey\bin2`, dir + `;C:\Users\ann\AppData\Local\feedkey\bin2`, true},
	}
	for _, tt := range tests {
		got, changed := Prepend(tt.list, dir)
		if got != tt.want || changed != tt.changed {
			t.Errorf("Prepend(%q) = %q, %v; want %q, %v", tt.list, got, changed, tt.want, tt.changed)
		}
	}
}
