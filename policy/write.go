package policy

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"

	"maunium.net/go/mautrix/event"
)

// Rules Gavel writes: under the stable type of their kind, with the
// recommendation m.ban, and as state key the unpadded URL-safe base64 of
// the entity's SHA-256 (a Matrix state key stays short and free of
// characters that tools may trip on, whatever the entity; readers match
// by the content's entity, never by the key).

// StateKey is the state key Gavel writes a rule for entity under.
func StateKey(entity string) string {
	sum := sha256.Sum256([]byte(entity))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Ban is the content of a rule that recommends banning entity.
func Ban(entity, reason string) *event.ModPolicyContent {
	return &event.ModPolicyContent{Entity: entity, Reason: reason, Recommendation: event.PolicyRecommendationBan}
}

// Reason fills the reason template: {reason} and {report_id} are
// replaced. Without a report, the bracketed part that names it goes
// ("spam (case {report_id})" -> "spam"); without a reason, the brackets
// around the rest ("(case 12)" -> "case 12").
func Reason(template, reason, reportID string) string {
	if template == "" {
		template = DefaultReasonTemplate
	}
	if reportID == "" {
		template = reportPart.ReplaceAllString(template, "")
	}
	out := strings.NewReplacer("{reason}", reason, "{report_id}", reportID).Replace(template)
	if reason == "" {
		out = strings.TrimPrefix(strings.TrimSpace(out), "(")
		out = strings.TrimSuffix(out, ")")
	}
	return strings.Join(strings.Fields(out), " ")
}

// reportPart is the bracketed part of a template that names the report.
var reportPart = regexp.MustCompile(`[(\[][^()\[\]]*\{report_id\}[^()\[\]]*[)\]]|\{report_id\}`)

// DefaultReasonTemplate is policy_reason_template's default: the
// moderator's reason and the case, never the reporter.
const DefaultReasonTemplate = "{reason} (case {report_id})"
