"""A generated demo district: every department's deliveries, with planted defects and their truth."""

from fpwarn_demo.generator import DemoSummary, generate_district

__all__ = ["DemoSummary", "generate_district"]
