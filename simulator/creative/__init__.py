"""Creative and compliance QA: SMS encoding and segments, compliance rule packs."""

from simulator.creative.sms import Offending, SmsSegments, smart_encode, sms_segments

__all__ = ["Offending", "SmsSegments", "smart_encode", "sms_segments"]
