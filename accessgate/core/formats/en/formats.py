"""English date formats: the ISO-style dates the portal has always shown, used through the
named formats (`|date:"SHORT_DATETIME_FORMAT"`) so that every other language gets its own."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
# The audit trail's compact time is SHORT_DATE_FORMAT plus this.
TIME_FORMAT = "H:i:s"
