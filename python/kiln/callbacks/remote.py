"""Callbacks that report to something outside the process: RemoteMonitor (each epoch's logs
POSTed to a server, as Keras 1.2 does with `requests`; here with the standard library), and
TensorBoard, which in Keras 1.2 needs the TensorFlow backend and so raises here as it does on
Theano."""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

from .. import backend as K
from .base import Callback


class RemoteMonitor(Callback):
    """POSTs `{field: json.dumps({'epoch': epoch, **logs})}`, form-encoded, to `root + path` at
    the end of each epoch; a server that cannot be reached gives a warning, not an error.

    Example:

    ```python
    model.fit(x, y, callbacks=[RemoteMonitor(root='http://localhost:9000')])
    ```
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers={"Accept": "application/json", "Content-Type": "application/json"}, timeout=10.0):
        super(RemoteMonitor, self).__init__()
        self.root, self.path, self.field, self.headers, self.timeout = root, path, field, dict(headers), timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = float(v) if hasattr(v, "__float__") else v
        body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
        request = urllib.request.Request(self.root + self.path, data=body, headers=self.headers, method="POST")
        try:
            urllib.request.urlopen(request, timeout=self.timeout).close()
        except (urllib.error.URLError, OSError):
            warnings.warn("Warning: could not reach RemoteMonitor root server at " + str(self.root))


class TensorBoard(Callback):
    """Keras 1.2's TensorBoard writes TensorFlow summaries and refuses other backends; kiln's
    backend is not TensorFlow, so it raises the same RuntimeError (use CSVLogger or History)."""

    def __init__(self, log_dir="./logs", histogram_freq=0, write_graph=True, write_images=False, **kwargs):
        super(TensorBoard, self).__init__()
        if K.backend() != "tensorflow":
            raise RuntimeError("TensorBoard callback only works with the TensorFlow backend.")
