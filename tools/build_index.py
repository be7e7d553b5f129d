"""Index an image folder for ReCo's retrieval: CLIP image embeddings searched by class text.

    python tools/build_index.py FOLDER --out INDEX_DIR [--model ViT-L-14-336] [--weights openai]
                                [--batch-size 32] [--ivf-lists N] [--device cpu]

Every image under FOLDER (recursively) is embedded with CLIP's evaluation transform. The build
writes its embeddings in chunks, each atomically: killed halfway, the same command continues where
it stopped. The index is keyed by the folder's contents and the weights; run again after either
changed and it is rebuilt. ``--ivf-lists`` uses faiss inverted lists (collections of millions);
default exact search. Then: ``demo/image_demo.py photo.jpg --config reco_... --index INDEX_DIR``.
"""
import argparse
import sys

from clipseg.utils.errors import run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='the image collection')
    parser.add_argument('--out', required=True, help='the index folder (created; resumed if present)')
    parser.add_argument('--model', default='ViT-L-14-336', help="open_clip model (ReCo: ViT-L/14@336)")
    parser.add_argument('--weights', default='openai', help='pretrained tag or local weights file')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--chunk', type=int, default=512, help='images per resumable chunk')
    parser.add_argument('--ivf-lists', type=int, default=None,
                        help='faiss IVF lists (e.g. 4*sqrt(N)); default exact inner product')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)
    from clipseg.models.clip import create_clip, weights_id
    from clipseg.retrieval import ImageEncoder, ImageIndex
    model, _ = create_clip(args.model, args.weights)
    encoder = ImageEncoder(model, weights_id(args.model, args.weights) or f'{args.model}:random',
                           args.device)
    index = ImageIndex.build(args.folder, args.out, encoder, batch_size=args.batch_size,
                             chunk=args.chunk, ivf_lists=args.ivf_lists)
    print(f'{len(index)} images indexed in {args.out} ({index.manifest["encoder"]})')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
