/** Help text of `storepack build`. */
export const buildHelp = `Usage: storepack build [OPTION]... PATH...

Write a container image of the store items PATH... and their runtime closure, every item
at its store path, split into layers by --layers.

Output:
  -o, --output PATH       write the image to PATH, or to standard output when PATH is '-'
                          or /dev/stdout, after what a '>>' file already holds
                          (default: docker-image-<basename of the first PATH>.tar;
                          oci-image-<basename> for oci, oci-image-<basename>.tar for
                          oci-archive); an existing OCI layout gets the new image beside
                          the ones it holds, as skopeo copy does
      --format FORMAT     docker-archive (the format of 'docker save' and 'docker load'),
                          oci (an OCI image layout folder) or oci-archive (a tar of one);
                          default docker-archive
  -t, --tag NAME:TAG      name the image NAME:TAG; may be repeated
                          (default: <first word of the item's name>:<hash part>)
      --push REFERENCE    send the image to a registry as REFERENCE, such as
                          registry.example/team/hello:1, instead of writing a file; see
                          'storepack push --help' for credentials
      --insecure-registry HOST[:PORT]  reach HOST over plain HTTP for --push; may be repeated
      --system SYSTEM     the image's platform as a Guix or Nix system name, such as
                          x86_64-linux or aarch64-linux (default: this machine's); given
                          several times, each --system takes the PATHs after it and the OCI
                          formats write one index with a manifest per platform

Layers:
      --layers PLANNER    how the closure is split into layers: churn (default: groups
                          items so that a changed item re-uploads few bytes), popularity
                          (Nix's, by how many items refer to each) or single (one layer, as
                          the original guix pack does)
      --max-layers N      at most N layers, from 1 to 125 (default 100; runtimes fail past
                          about 125); symlinks and extra folders take a layer of their own
      --compress ALGO     none (default), gzip or zstd; a docker-archive takes none or gzip
      --cache DIR         keep layer blobs in DIR and reuse them when the same store paths
                          come again, without reading the store (default: compressed layers
                          are kept in $XDG_CACHE_HOME/storepack/layers)
      --no-cache          build every layer from the store and keep none

Image settings:
      --entrypoint CMD    the program to run: a path, or a JSON array such as
                          '["bin/hello","--greeting=hi"]'; a relative path is taken inside
                          the first PATH, as 'guix pack --entry-point' does
      --cmd CMD           default arguments (the command itself when there is no
                          --entrypoint), a string or a JSON array; unlike --entrypoint, a
                          relative path is kept as given
  -e, --env NAME=VALUE    set a variable; may be repeated (default PATH: the bin/ folders of
                          the PATHs given)
      --workdir DIR       the working folder of the process, an absolute path
      --user USER         the user (name or UID, with an optional :GROUP) to run as
      --label NAME=VALUE  add a label to the config; may be repeated
      --expose PORT[/PROTO]  declare a port, such as 8080 or 53/udp; may be repeated
      --symlink LINK=TARGET  add a symlink LINK in the image to TARGET, taken inside the first
                          PATH when relative; may be repeated (default: /bin=bin when the
                          first PATH has a bin/)
      --extra-dir DIR[:MODE]  add a folder outside the store with an octal MODE (default 755),
                          such as /tmp:1777; may be repeated
      --created TIME      the creation time, RFC 3339 or seconds since the epoch
                          (default: SOURCE_DATE_EPOCH, else 1970-01-01T00:00:01Z)
      --annotation NAME=VALUE  add an annotation to the OCI manifest (oci and oci-archive
                          formats); may be repeated

Closure:
      --closure-from FROM where the closure comes from: db (the store database), command
                          (nix-store or guix gc), scan (a search of file contents for store
                          hashes), a closure file (exportReferencesGraph, closureInfo's
                          registration, nix path-info --json), or auto (default: the
                          database when it opens and holds every PATH, else the command,
                          else a scan)
      --db FILE           the store database to read (default: /nix/var/nix/db/db.sqlite for
                          /nix/store, /var/guix/db/db.sqlite for /gnu/store)
      --store-dir DIR     the store folder, such as /gnu/store (default: from the first PATH)
      --root DIR          read the items from DIR/<store path>, as Nix reads a 'local?root=DIR'
                          store; in the image they sit at their store path
      --json              print the result as one JSON object on standard output: format,
                          output, references, configDigest, manifestDigest (OCI), images
                          (platform, configDigest, layers with digest, diffId and size) and
                          seconds; with --push, the push result as 'storepack push --json'
  -q, --quiet             print no progress (it is shown only when standard error is a
                          terminal)
  -h, --help              print this help

Environment:
  SOURCE_DATE_EPOCH       the image's creation time in seconds since the epoch
                          (default: 1, that is 1970-01-01T00:00:01Z)

Examples:
  storepack build /gnu/store/…-hello-2.12 -o hello.tar && docker load < hello.tar
  storepack build ./result -o - | podman load
  storepack build ./result --format oci -o hello-oci --entrypoint bin/hello
  storepack build --format oci -o hello-multi \\
    --system x86_64-linux /gnu/store/…-hello-2.12 --system aarch64-linux /gnu/store/…-hello-2.12
  storepack build --root ./copy --closure-from scan /nix/store/…-hello
  storepack build ./result --entrypoint bin/hello --push registry.example/team/hello:2.12
`;
