"""Python client of the batchinfer gateway.

>>> from batchinfer import Client
>>> c = Client("http://localhost:8000", key)
>>> c.predict(x[:5], model="digits")                 # numpy array → list[ItemResult]
>>> job = c.submit(df, model="breast_cancer")         # DataFrame, ndarray, path or items
>>> for ev in job.watch(): ...                        # resumable WebSocket follow
>>> job.to_pandas()                                   # the output file as a DataFrame
>>> c.run("rows.csv", model="breast_cancer", output="predictions.csv")
"""

from ._client import Client, Job
from ._errors import APIError
from ._models import ItemResult, JobLinks, JobStatus, ModelInfo, QueuePosition, TensorSpec, TopEntry
from ._watch import Event

__all__ = ["APIError", "Client", "Event", "ItemResult", "Job", "JobLinks", "JobStatus", "ModelInfo",
           "QueuePosition", "TensorSpec", "TopEntry"]
__version__ = "1.0.0"
