# Imports the STEP file named by the environment variable REPLICA_STEP
# with FreeCAD's own STEP importer and prints what FreeCAD made of it, for
# freecadCheck in freecad_test.go. Run it as
#
#     REPLICA_STEP=part.step freecadcmd freecad_check.py
#
# The path comes in the environment because freecadcmd takes every
# command-line argument after the script for a file to open itself (and
# does not pass it on in sys.argv).
#
# Import.insert is what File > Import does in FreeCAD (ImportGui.insert is
# the same reader plus colours): OpenCascade's STEPCAFControl_Reader into
# an XDE document, then FreeCAD's ImportOCAF2 turning that into document
# objects, one Part::Feature per part. Part.read would skip the XDE and
# FreeCAD layers and be little more than occt_test.go's stepread again.
#
# The results are printed at the end, one record a line, each line
# starting with "REPLICA ", after a newline: the importer's progress
# meter writes to stdout too, with carriage returns and no final newline.
#
#     REPLICA object <name> <ShapeType> <isValid> <solids> <faces>
#     REPLICA solid <isValid> <isClosed> <all shells closed> <Volume> <faces>
#     REPLICA face <Surface TypeId>
#     REPLICA tolerance <largest face, edge or vertex tolerance>
#     REPLICA done
#
# On any error it prints the traceback and exits with status 1: freecadcmd
# itself exits 0 when a script raises, so the Go side also insists on the
# final "done".
import os
import sys
import traceback


def surface_type(face):
    s = face.Surface
    return getattr(s, "TypeId", "") or type(s).__name__


def check(path):
    if not os.path.isfile(path):
        raise FileNotFoundError("no STEP file at %r" % path)
    import FreeCAD
    import Import

    doc = FreeCAD.newDocument("ReplicaCheck")
    Import.insert(path, doc.Name)
    features = [o for o in doc.Objects if o.isDerivedFrom("Part::Feature")]
    if not features:
        raise RuntimeError("FreeCAD imported no shape from %r" % path)
    records, tol = [], 0.0
    for o in features:
        sh = o.Shape
        records.append(["object", o.Name, sh.ShapeType, sh.isValid(), len(sh.Solids), len(sh.Faces)])
        for so in sh.Solids:
            shells = all(shell.isClosed() for shell in so.Shells)
            records.append(["solid", so.isValid(), so.isClosed(), shells, repr(so.Volume), len(so.Faces)])
        for f in sh.Faces:
            records.append(["face", surface_type(f)])
        for x in sh.Faces + sh.Edges + sh.Vertexes:
            tol = max(tol, x.Tolerance)
    records.append(["tolerance", repr(tol)])
    records.append(["done"])
    return records


def main():
    path = os.environ.get("REPLICA_STEP")
    try:
        if not path:
            raise RuntimeError("REPLICA_STEP is not set")
        records = check(path)
    except BaseException:
        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    print("\n" + "\n".join("REPLICA " + " ".join(str(x) for x in r) for r in records))
    sys.stdout.flush()


main()
