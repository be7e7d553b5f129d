"""Image collections searched by text: ReCo's retrieval index (faiss, extra ``[reco]``)."""
from .image_index import ImageEncoder, ImageIndex, IndexMismatchError, folder_key

__all__ = ['ImageEncoder', 'ImageIndex', 'IndexMismatchError', 'folder_key']
