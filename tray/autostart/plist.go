package autostart

import (
	"bytes"
	"encoding/xml"
)

// launchAgentPlist returns a LaunchAgent property list that runs exe with
// args at login (RunAtLoad), in the user's GUI (Aqua) session, without
// restarting it after it exits (no KeepAlive: Quit means quit).
func launchAgentPlist(exe string, args []string) []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.WriteString("<string>")
		xml.EscapeText(&b, []byte(s)) // never fails writing to a bytes.Buffer
		b.WriteString("</string>")
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	`)
	str(LaunchAgentLabel)
	b.WriteString("\n\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, a := range append([]string{exe}, args...) {
		b.WriteString("\t\t")
		str(a)
		b.WriteString("\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
</dict>
</plist>
`)
	return b.Bytes()
}
