"""The request pipeline: the exchange, its phases, verdicts, the Protection protocol and the chain."""

from sealgate.pipeline.exchange import Exchange, Identity, Response
from sealgate.pipeline.phases import Phase
from sealgate.pipeline.protection import Protection
from sealgate.pipeline.verdict import Verdict

__all__ = ["Exchange", "Identity", "Phase", "Protection", "Response", "Verdict"]
