"""Visits: who is at the door over several clips, decided on agreement.

Data path, by module: `recognition` events → evidence (each face of each clip: a vote with name,
confidence, box; the face descriptor beside it, in memory only: appearance) → tracker (grouping: by recording
time, box overlap and appearance, several people at once, a visit split when someone else takes the spot;
decision: confidence-weighted votes over a window, a pure function) → visit changes → visit_sink
(listeners such as pi_app.actions act on them; visit_events makes `visit_started`, `visit_decided`,
`visit_ended` for the event log).
"""
from pi_app.visits.decision import UNDECIDED, Decision, DecisionPolicy, decide
from pi_app.visits.evidence import Box, Vote
from pi_app.visits.grouping import VisitConfig
from pi_app.visits.tracker import VisitChange, VisitTracker, VisitView
from pi_app.visits.visit_events import visit_event
from pi_app.visits.visit_sink import VisitSink

__all__ = ["UNDECIDED", "Box", "Decision", "DecisionPolicy", "VisitChange", "VisitConfig", "VisitSink",
           "VisitTracker", "VisitView", "Vote", "decide", "visit_event"]
