"""Media that decodes without an error yet is not all there.

ffmpeg and PyAV decode a truncated file, or one whose header is followed by garbage,
without complaint: what comes out is a fraction of what the container states. Well
below the stated duration, the input is damaged, not converted or transcribed.
"""

from __future__ import annotations

from .errors import UnreadableMedia

COMPLETE_SHARE = 0.75


def clock_seconds(value: object) -> float | None:
    """A stream's `DURATION` tag (Matroska writes `HH:MM:SS.fffffffff`) in seconds."""
    if not isinstance(value, str):
        return None
    try:
        hours, minutes, seconds = value.strip().split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def check_complete(stated_s: float | None, decoded_s: float | None) -> None:
    """Raise `UnreadableMedia` when less than 75 % of the stated duration decoded."""
    if stated_s is None or stated_s < 1.0:
        return
    if decoded_s is None or decoded_s < COMPLETE_SHARE * stated_s:
        raise UnreadableMedia(
            f"the input is damaged or ends early: {decoded_s or 0.0:.1f} s of the "
            f"{stated_s:.1f} s it states could be decoded"
        )
