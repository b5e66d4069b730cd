"""Reference community detection with igraph's C implementations on the exact
account graph the TypeScript bench built (edge list written as raw little-endian
int32 sources, int32 targets, float64 weights). Prints one JSON line with load,
multilevel and Leiden times (s, wall and CPU), modularity and community counts.

Usage: /usr/bin/python3 bench/linkage/igraph_ref.py PREFIX NODES [SEED]
"""
import json
import random
import resource
import sys
import time
from array import array

import igraph as ig


def read(path, code):
    a = array(code)
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def main():
    prefix, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 42
    random.seed(seed)
    ig.set_random_number_generator(random)
    t = time.perf_counter()
    src, dst, w = read(prefix + ".src", "i"), read(prefix + ".dst", "i"), read(prefix + ".w", "d")
    g = ig.Graph(n=n, edges=list(zip(src, dst)), directed=False)
    g.es["weight"] = w
    out = {"nodes": n, "edges": g.ecount(), "load_s": time.perf_counter() - t}

    t, c = time.perf_counter(), time.process_time()
    ml = g.community_multilevel(weights="weight")
    out["multilevel_s"] = time.perf_counter() - t
    out["multilevel_cpu_s"] = time.process_time() - c
    out["multilevel_modularity"] = g.modularity(ml.membership, weights="weight")
    out["multilevel_communities"] = len(ml)

    t, c = time.perf_counter(), time.process_time()
    ld = g.community_leiden(objective_function="modularity", weights="weight")
    out["leiden_s"] = time.perf_counter() - t
    out["leiden_cpu_s"] = time.process_time() - c
    out["leiden_modularity"] = g.modularity(ld.membership, weights="weight")
    out["leiden_communities"] = len(ld)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == "__main__":
    main()
