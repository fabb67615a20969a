"""What the sources app tells the apps above it, without knowing them.

`source_saved(source, created)` is sent inside the transaction of every registration and change of a source's
settings or state, after its audit row. Receivers run in that transaction (so what they write commits or rolls back
with it) and may defer work to `transaction.on_commit`. The datasets app keeps the resource's dataset and the
source's load schedule with it.
"""

from django.dispatch import Signal

source_saved = Signal()
