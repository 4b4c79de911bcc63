package notice

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gavel-bot/gavel/adminapi"
	"github.com/gavel-bot/gavel/internal/retry"
)

// Explain turns an admin API error into a sentence for moderators: what is
// wrong with what, and Synapse's errcode. It is the one place where errors
// become words; pollFailure is its short form for alerts.
func Explain(err error, what string) string { return ExplainFor(err, what, "") }

// ExplainFor is Explain knowing Synapse's version, which it names when
// Synapse lacks the endpoint.
func ExplainFor(err error, what, synapseVersion string) string {
	var invalid *adminapi.InvalidInputError
	switch {
	case errors.As(err, &invalid):
		return Capitalize(invalid.Error()) + "."
	case adminapi.IsNotFound(err):
		return fmt.Sprintf("%s does not exist (Synapse: %s).", Capitalize(what), adminapi.ErrCode(err))
	case adminapi.IsForbidden(err):
		return fmt.Sprintf("Synapse refused (%s): %s. Gavel's admin token must belong to a server admin.", adminapi.ErrCode(err), synapseMessage(err))
	case adminapi.IsUnauthorized(err):
		return fmt.Sprintf("Synapse rejected Gavel's admin token (%s). Check synapse.admin_access_token.", adminapi.ErrCode(err))
	case adminapi.IsUnsupported(err) && synapseVersion != "":
		return "Not supported by Synapse " + synapseVersion + " (" + retry.ErrCode(err) + "): a newer Synapse has it."
	case adminapi.IsUnsupported(err):
		return "This Synapse does not support that (" + retry.ErrCode(err) + ")."
	case adminapi.StatusCode(err) == 0 && !errors.Is(err, context.DeadlineExceeded):
		var apiErr *adminapi.Error
		if errors.As(err, &apiErr) {
			return "Synapse did not answer; try again in a moment."
		}
		return "Failed: " + err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "Synapse took too long to answer; the action may still complete. Check before trying again."
	default:
		code := adminapi.ErrCode(err)
		if code == "" {
			code = fmt.Sprintf("HTTP %d", adminapi.StatusCode(err))
		}
		return fmt.Sprintf("Synapse could not do that for %s (%s): %s.", what, code, synapseMessage(err))
	}
}

// pollFailure says in a few words why reading the reports failed.
func pollFailure(err error) string {
	if adminapi.IsTooLarge(err) {
		return fmt.Sprintf("Synapse's answer was over %d MiB", adminapi.MaxAnswerSize>>20)
	}
	switch status := adminapi.StatusCode(err); {
	case status == 0 && adminapi.ErrCode(err) == "":
		var apiErr *adminapi.Error
		if errors.As(err, &apiErr) {
			return "Synapse does not answer"
		}
		return err.Error()
	case adminapi.ErrCode(err) != "":
		return fmt.Sprintf("Synapse answers %s, HTTP %d", adminapi.ErrCode(err), status)
	default:
		return fmt.Sprintf("Synapse answers HTTP %d", status)
	}
}

func synapseMessage(err error) string {
	var apiErr *adminapi.Error
	if errors.As(err, &apiErr) && apiErr.Message != "" {
		return strings.TrimSuffix(apiErr.Message, ".")
	}
	return "no details"
}

// Capitalize upper-cases the first letter of Gavel's own sentences.
func Capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
