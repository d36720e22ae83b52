"""The simulation core: the clock and run loop, systems and sync links, journeys, channels and
policies, the event log, and the population they act on (docs/architecture.md says which module
holds what). Nothing here writes a run folder, runs findings or builds a report: that is the
pipeline's (:mod:`simulator.pipeline`), which calls into this package and never the other way.
"""

from simulator.engine.core import Engine

__all__ = ["Engine"]
