#!/bin/sh
# store-rewrite.sh rewrites calls of the store.Store methods that issue 23
# moved onto per-table query types (st.Case(ctx, k) -> st.Cases.Get(ctx, k)):
# run it from the repository root after merging a branch that still calls
# the old names, then `gofmt -l .` and `go build ./... && go vet ./...`.
#
#   sh scripts/store-rewrite.sh            # every .go file under .
#   sh scripts/store-rewrite.sh bot/ x.go  # only these files or folders
#
# It is repeatable: a call already rewritten is left alone. Each rule is a
# pure rename, old method -> field.method, as `gofmt -r 'R.Old -> R.Field.New'`
# would say it; it is done with perl because gofmt -r cannot tell a store
# from any other receiver. A receiver counts as a store when it is an
# expression ending in .Store, .store or .st (m.Store, b.store, t.e.st), one
# of the variables st, stA, stB, otherDB, or a call of openStore; in store's own
# test files also s. A store held under another name is not rewritten: the
# build then names the call, fixed by hand or by adding the name to RECV.
#
# What it cannot do, by hand: AddDuplicate takes one store.NewDuplicate
# (Report, with Reporter set, Reason, Card, Case, Edit, Line) instead of
# nine arguments; case states are store.CaseState (Case.State,
# CaseQuery.States, store.Closed), so string(c.State) where a string is
# wanted; store.CardMessages takes notice.Reactions(buttons) instead of
# notice.Keys(buttons) (see the last rule).
set -eu

# Old method, then the field and method it became.
RULES='
Get KV.Get
Set KV.Set
Unseen Reports.Unseen
MaxReportID Reports.MaxID
CountReports Reports.CountByState
AddReportNotice Reports.AddNotice
AddReportsDigest Reports.AddDigest
SkipReports Reports.Skip
SeenReport Reports.Seen
OpenCard Reports.OpenCard
PromoteToCard Reports.PromoteToCard
Duplicates Reports.Duplicates
AddDuplicate Reports.AddDuplicate
Case Cases.Get
ChangeCase Cases.Change
ReplaceCard Cases.ReplaceCard
ListCases Cases.List
EachCase Cases.Each
ArchivedReport Archive.Get
ReporterTold ReporterNotices.Told
MarkReporterTold ReporterNotices.MarkTold
Enqueue Outbox.Enqueue
EnqueueAndSet Outbox.EnqueueAndSet
Unsent Outbox.Unsent
Message Outbox.Get
MessageByEvent Outbox.ByEvent
MarkAttempted Outbox.MarkAttempted
MarkFailed Outbox.MarkFailed
MarkSent Outbox.MarkSent
Readdress Outbox.Readdress
OutboxDepth Outbox.Depth
StartCommand Commands.Start
FinishCommand Commands.Finish
Actions Actions.Latest
ActionsFor Actions.ForReport
Audit Actions.Audit
PendingByEvent Pending.ByEvent
DecidePending Pending.Decide
PendingCount Pending.Count
RunningTasks Tasks.Running
ShowTask Tasks.Show
AddUndecrypted Undecrypted.Add
Undecrypted Undecrypted.List
RemoveUndecrypted Undecrypted.Remove
Conn Instances.Conn
Instances Instances.List
PruneInstances Instances.Prune
LockHeld Instances.LockHeld
UserRecord Records.User
ReporterRecord Records.Reporter
'
# Receivers that are a *store.Store (a perl regex; see above).
RECV='(?:\w+\.)+(?:Store|store|st)|(?<![\w.])(?:st|stA|stB|otherDB)|(?:\w+\.)*openStore\([^()]*\)'

[ $# -gt 0 ] || set -- .
files=$(find "$@" -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' | sort)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
RULES="$RULES" RECV="$RECV" perl -0pi -e '
	BEGIN {
		for (split /\n/, $ENV{RULES}) { my ($old, $new) = split " "; push @rules, [$old, $new] if $old }
	}
	my $recv = $ENV{RECV};
	# In package store itself its tests name the store s.
	$recv .= q{|(?<![\w.])s} if $ARGV =~ m{(^|/)store/[^/]+_test\.go$};
	for my $r (@rules) {
		my ($old, $new) = @$r;
		# Not when a dot follows: st.Actions.Latest is done already.
		s/(?<![\w.])((?:$recv))\.\Q$old\E\b(?![\w.])/$1.$new/g;
	}
	# store.CardMessages takes the reactions'"'"' contents, built by notice.
	s/\bnotice\.Keys\(/notice.Reactions(/g;
' $files
# shellcheck disable=SC2086
gofmt -l $files | xargs -r gofmt -w
