# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sopx_global_optspecs
    string join \n config= verbose disable-version-check check-for-updates enable-local-keyservice keyservice= e/encrypt d/decrypt a/age= p/pgp= k/kms= gcp-kms= hckms= azure-kv= hc-vault-transit= shamir-secret-sharing-threshold= aws-profile= encryption-context= unencrypted-suffix= encrypted-suffix= unencrypted-regex= encrypted-regex= unencrypted-comment-regex= encrypted-comment-regex= mac-only-encrypted input-type= output-type= output= i/in-place filename-override= extract= ignore-mac decryption-order= r/rotate add-age= rm-age= add-pgp= rm-pgp= add-kms= rm-kms= add-gcp-kms= rm-gcp-kms= add-hckms= rm-hckms= add-azure-kv= rm-azure-kv= add-hc-vault-transit= rm-hc-vault-transit= set= s/show-master-keys v/version indent= h/help
end

function __fish_sopx_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sopx_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sopx_using_subcommand
    set -l cmd (__fish_sopx_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sopx -n "__fish_sopx_needs_command" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_needs_command" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_needs_command" -s a -l age -d 'Comma-separated age recipients (age1..., ssh-ed25519 ..., ssh-rsa ...)' -r
complete -c sopx -n "__fish_sopx_needs_command" -s p -l pgp -d 'Comma-separated PGP fingerprints' -r
complete -c sopx -n "__fish_sopx_needs_command" -s k -l kms -d 'Comma-separated AWS KMS key ARNs (`arn+role-arn` assumes the role)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l gcp-kms -d 'Comma-separated GCP KMS key resource IDs' -r
complete -c sopx -n "__fish_sopx_needs_command" -l hckms -d 'Comma-separated HuaweiCloud KMS key IDs (region:key-uuid)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l azure-kv -d 'Comma-separated Azure Key Vault key URLs' -r
complete -c sopx -n "__fish_sopx_needs_command" -l hc-vault-transit -d 'Comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir secret sharing)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l aws-profile -d 'AWS profile for the KMS keys given with --kms' -r
complete -c sopx -n "__fish_sopx_needs_command" -l encryption-context -d 'KMS encryption context, as key:value pairs separated by commas' -r
complete -c sopx -n "__fish_sopx_needs_command" -l unencrypted-suffix -d 'Leave values whose key ends with this suffix unencrypted (default _unencrypted)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l encrypted-suffix -d 'Encrypt only values whose key ends with this suffix' -r
complete -c sopx -n "__fish_sopx_needs_command" -l unencrypted-regex -d 'Leave values whose key matches this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_needs_command" -l encrypted-regex -d 'Encrypt only values whose key matches this regex' -r
complete -c sopx -n "__fish_sopx_needs_command" -l unencrypted-comment-regex -d 'Leave values after a comment matching this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_needs_command" -l encrypted-comment-regex -d 'Encrypt only values after a comment matching this regex' -r
complete -c sopx -n "__fish_sopx_needs_command" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_needs_command" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_needs_command" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_needs_command" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_needs_command" -l extract -d 'Print only the value at this path, e.g. \'["database"]["password"]\'' -r
complete -c sopx -n "__fish_sopx_needs_command" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-age -d 'age recipients to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-age -d 'age recipients to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-pgp -d 'PGP fingerprints to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-pgp -d 'PGP fingerprints to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-kms -d 'AWS KMS ARNs to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-kms -d 'AWS KMS ARNs to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-gcp-kms -d 'GCP KMS resource IDs to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-gcp-kms -d 'GCP KMS resource IDs to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-hckms -d 'HuaweiCloud KMS key IDs to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-hckms -d 'HuaweiCloud KMS key IDs to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-azure-kv -d 'Azure Key Vault key URLs to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-azure-kv -d 'Azure Key Vault key URLs to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l add-hc-vault-transit -d 'Vault transit key URIs to add' -r
complete -c sopx -n "__fish_sopx_needs_command" -l rm-hc-vault-transit -d 'Vault transit key URIs to remove' -r
complete -c sopx -n "__fish_sopx_needs_command" -l set -d 'Set one value, as in `sopx set`: \'["key"] VALUE\' (VALUE is JSON)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l indent -d 'Indentation of the YAML or JSON that sopx writes in new layout (converted output), as sops\'s --indent (legacy mode: `sopx --indent 2 -d …`)' -r
complete -c sopx -n "__fish_sopx_needs_command" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_needs_command" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_needs_command" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_needs_command" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_needs_command" -s e -l encrypt -d 'Encrypt FILE (same as `sopx encrypt`)'
complete -c sopx -n "__fish_sopx_needs_command" -s d -l decrypt -d 'Decrypt FILE (same as `sopx decrypt`)'
complete -c sopx -n "__fish_sopx_needs_command" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only'
complete -c sopx -n "__fish_sopx_needs_command" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_needs_command" -l ignore-mac -d 'Do not check the MAC (for files changed by hand)'
complete -c sopx -n "__fish_sopx_needs_command" -s r -l rotate -d 'Rotate the data key (same as `sopx rotate`)'
complete -c sopx -n "__fish_sopx_needs_command" -s s -l show-master-keys -d 'Accepted for sops compatibility (sopx does not show the keys while editing)'
complete -c sopx -n "__fish_sopx_needs_command" -s v -l version -d 'Print the version (installed as `sops`: `sops 3.11.0 (sopx X.Y.Z)`)'
complete -c sopx -n "__fish_sopx_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sopx -n "__fish_sopx_needs_command" -a "encrypt" -d 'Encrypt a file; the result goes to stdout unless -i or --output'
complete -c sopx -n "__fish_sopx_needs_command" -a "decrypt" -d 'Decrypt a file; the plaintext goes to stdout unless -i or --output'
complete -c sopx -n "__fish_sopx_needs_command" -a "edit" -d 'Open a file in $SOPS_EDITOR/$EDITOR, re-encrypting it on save'
complete -c sopx -n "__fish_sopx_needs_command" -a "set" -d 'Set one value of an encrypted file'
complete -c sopx -n "__fish_sopx_needs_command" -a "unset" -d 'Remove one entry from an encrypted file'
complete -c sopx -n "__fish_sopx_needs_command" -a "filestatus" -d 'Tell whether a file is encrypted, as JSON (`{"encrypted":true}`)'
complete -c sopx -n "__fish_sopx_needs_command" -a "rotate" -d 'Give a file a new data key (every value is re-encrypted), optionally adding or removing keys'
complete -c sopx -n "__fish_sopx_needs_command" -a "updatekeys" -d 'Re-wrap files\' data keys for the keys `.sops.yaml` lists now (values keep their ciphertext)'
complete -c sopx -n "__fish_sopx_needs_command" -a "groups" -d 'Add or delete key groups'
complete -c sopx -n "__fish_sopx_needs_command" -a "check" -d 'Fail if a file that a `.sops.yaml` path_regex rule covers is not encrypted (for pre-commit hooks)'
complete -c sopx -n "__fish_sopx_needs_command" -a "diff" -d 'Show a decrypted unified diff of two encrypted files (each a path, or REV:PATH for a git revision); exits 1 when they differ'
complete -c sopx -n "__fish_sopx_needs_command" -a "merge" -d 'Git merge driver: merge OURS and THEIRS (changed from BASE) value by value, encrypted, into OURS (`sopx merge %O %A %B %P`)'
complete -c sopx -n "__fish_sopx_needs_command" -a "git" -d 'Git integration'
complete -c sopx -n "__fish_sopx_needs_command" -a "exec-env" -d 'Run a command with the decrypted values in its environment'
complete -c sopx -n "__fish_sopx_needs_command" -a "exec-file" -d 'Run a command with the decrypted file in a FIFO (or a 0600 temporary file); `{}` in the command is its path'
complete -c sopx -n "__fish_sopx_needs_command" -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c sopx -n "__fish_sopx_needs_command" -a "keyservice" -d 'Not supported by sopx (sops\'s key service server): exits with an error'
complete -c sopx -n "__fish_sopx_needs_command" -a "publish" -d 'Not supported by sopx (sops\'s publish to S3/GCS/Vault): exits with an error'
complete -c sopx -n "__fish_sopx_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s a -l age -d 'Comma-separated age recipients (age1..., ssh-ed25519 ..., ssh-rsa ...)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s p -l pgp -d 'Comma-separated PGP fingerprints' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s k -l kms -d 'Comma-separated AWS KMS key ARNs (`arn+role-arn` assumes the role)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l gcp-kms -d 'Comma-separated GCP KMS key resource IDs' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l hckms -d 'Comma-separated HuaweiCloud KMS key IDs (region:key-uuid)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l azure-kv -d 'Comma-separated Azure Key Vault key URLs' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l hc-vault-transit -d 'Comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir secret sharing)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l aws-profile -d 'AWS profile for the KMS keys given with --kms' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l encryption-context -d 'KMS encryption context, as key:value pairs separated by commas' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l unencrypted-suffix -d 'Leave values whose key ends with this suffix unencrypted (default _unencrypted)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l encrypted-suffix -d 'Encrypt only values whose key ends with this suffix' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l unencrypted-regex -d 'Leave values whose key matches this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l encrypted-regex -d 'Encrypt only values whose key matches this regex' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l unencrypted-comment-regex -d 'Leave values after a comment matching this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l encrypted-comment-regex -d 'Encrypt only values after a comment matching this regex' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l reuse -d 'Keep the data key, recipients and the ciphertext of every unchanged value of OLD: a path, or git:REV for this file at a git revision. With -i on a file git tracks, git:HEAD is the default when HEAD holds an encrypted version you can open' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l no-reuse -d 'Encrypt afresh, even where --reuse git:HEAD would be the default'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand encrypt" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l extract -d 'Print only the value at this path, e.g. \'["database"]["password"]\'' -r
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l output-dir -d 'Write each file\'s plaintext under DIR, at its relative path (mode 0600); for several files or -r' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l ignore-mac -d 'Do not check the MAC (for files changed by hand)'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand decrypt" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s a -l age -d 'Comma-separated age recipients (age1..., ssh-ed25519 ..., ssh-rsa ...)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s p -l pgp -d 'Comma-separated PGP fingerprints' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s k -l kms -d 'Comma-separated AWS KMS key ARNs (`arn+role-arn` assumes the role)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l gcp-kms -d 'Comma-separated GCP KMS key resource IDs' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l hckms -d 'Comma-separated HuaweiCloud KMS key IDs (region:key-uuid)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l azure-kv -d 'Comma-separated Azure Key Vault key URLs' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l hc-vault-transit -d 'Comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir secret sharing)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l aws-profile -d 'AWS profile for the KMS keys given with --kms' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l encryption-context -d 'KMS encryption context, as key:value pairs separated by commas' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l unencrypted-suffix -d 'Leave values whose key ends with this suffix unencrypted (default _unencrypted)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l encrypted-suffix -d 'Encrypt only values whose key ends with this suffix' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l unencrypted-regex -d 'Leave values whose key matches this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l encrypted-regex -d 'Encrypt only values whose key matches this regex' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l unencrypted-comment-regex -d 'Leave values after a comment matching this regex unencrypted' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l encrypted-comment-regex -d 'Encrypt only values after a comment matching this regex' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l mac-only-encrypted -d 'Compute the MAC over encrypted values only'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l ignore-mac -d 'Do not check the MAC before editing'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s s -l show-master-keys -d 'Accepted for sops compatibility (sopx does not show the keys while editing)'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand edit" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand set" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand set" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand set" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand set" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand set" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand set" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand set" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l ignore-mac -d 'Do not check the MAC'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l value-file -d 'Read the value from the file given as VALUE'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l value-stdin -d 'Read the value from stdin'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l idempotent -d 'Do nothing (and exit 0) if the value is already set to this'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand set" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand set" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand unset" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l ignore-mac -d 'Do not check the MAC'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l idempotent -d 'Do nothing (and exit 0) if the path does not exist'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand unset" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand filestatus" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-age -d 'age recipients to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-age -d 'age recipients to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-pgp -d 'PGP fingerprints to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-pgp -d 'PGP fingerprints to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-kms -d 'AWS KMS ARNs to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-kms -d 'AWS KMS ARNs to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-gcp-kms -d 'GCP KMS resource IDs to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-gcp-kms -d 'GCP KMS resource IDs to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-hckms -d 'HuaweiCloud KMS key IDs to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-hckms -d 'HuaweiCloud KMS key IDs to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-azure-kv -d 'Azure Key Vault key URLs to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-azure-kv -d 'Azure Key Vault key URLs to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l add-hc-vault-transit -d 'Vault transit key URIs to add' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l rm-hc-vault-transit -d 'Vault transit key URIs to remove' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l output-type -d 'Output format (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l output -d 'Write the result to FILE instead of stdout' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l filename-override -d 'Use this file name for format detection and .sops.yaml rules (for stdin input)' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -s i -l in-place -d 'Write the result back to the input file'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l ignore-mac -d 'Do not check the MAC'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand rotate" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir), overriding the config' -r
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l input-type -d 'Input format (default: from each file\'s extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -s y -l yes -d 'Do not ask for confirmation'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand updatekeys" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "add" -d 'Add a key group made of the given keys'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "delete" -d 'Delete the key group at INDEX (0-based)'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and not __fish_seen_subcommand_from add delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -s f -l file -d 'The encrypted file' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l age -d 'age recipients (repeatable; each may be a comma-separated list)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l pgp -d 'PGP fingerprints (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l kms -d 'AWS KMS key ARNs (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l gcp-kms -d 'GCP KMS key resource IDs (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l hckms -d 'HuaweiCloud KMS key IDs, region:key-uuid (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l azure-kv -d 'Azure Key Vault key URLs (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l hc-vault-transit -d 'Vault transit key URIs (repeatable)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt (Shamir secret sharing)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l aws-profile -d 'AWS profile for the KMS keys given with --kms' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l encryption-context -d 'KMS encryption context, as key:value pairs separated by commas' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -s i -l in-place -d 'Write the result back to the file (otherwise: stdout)'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -s f -l file -d 'The encrypted file' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l shamir-secret-sharing-threshold -d 'Number of key groups needed to decrypt after the deletion' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -s i -l in-place -d 'Write the result back to the file (otherwise: stdout)'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a key group made of the given keys'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete the key group at INDEX (0-based)'
complete -c sopx -n "__fish_sopx_using_subcommand groups; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand check" -s r -l recursive -d 'Work on the files under DIR (as well as any FILE given), walked as ripgrep walks: hidden and .gitignore\'d files skipped; files are picked by .sops.yaml path rules or by being encrypted, as the command needs. Files are processed in parallel, with one summary' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand check" -s j -l jobs -d 'Files worked on at once in a batch (default: the cores, at least 8)' -r
complete -c sopx -n "__fish_sopx_using_subcommand check" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand check" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand check" -l verify -d 'Also decrypt each encrypted file and verify its MAC (needs the keys)'
complete -c sopx -n "__fish_sopx_using_subcommand check" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand check" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand check" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand check" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand check" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand diff" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand diff" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand merge" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand merge" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -f -a "setup" -d 'Configure git for sopx: .gitattributes lines for the encrypted files and the files .sops.yaml rules cover, and the merge driver and textconv in the repository\'s config (idempotent; prints what it changes)'
complete -c sopx -n "__fish_sopx_using_subcommand git; and not __fish_seen_subcommand_from setup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l global -d 'Write the driver and textconv config to the global git config instead (no .gitattributes)'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from setup" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from help" -f -a "setup" -d 'Configure git for sopx: .gitattributes lines for the encrypted files and the files .sops.yaml rules cover, and the merge driver and textconv in the repository\'s config (idempotent; prints what it changes)'
complete -c sopx -n "__fish_sopx_using_subcommand git; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l user -d 'Run the command as this user (needs the privilege to switch users)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l extract -d 'Take the variables from this subtree only, e.g. \'["app"]\' (sopx addition)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l input-type -d 'Input format of the files (default: from each file\'s extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l background -d 'Start the command and return at once, without waiting for it'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l pristine -d 'Give the command only the decrypted values, not sopx\'s environment'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l same-process -d 'Replace the sopx process with the command (exec), instead of a child process'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l ignore-mac -d 'Do not check the MAC'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand exec-env" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l user -d 'Run the command as this user (needs the privilege to switch users)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l input-type -d 'Input format (default: from the file extension)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l output-type -d 'Format of the decrypted file given to the command (default: the input format)' -r -f -a "yaml\t''
json\t''
dotenv\t''
ini\t''
toml\t''
binary\t''"
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l filename -d 'Name of the FIFO or temporary file (in a private directory)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l decryption-order -d 'Comma-separated key kinds to try first, e.g. `age,pgp` (the default)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l background -d 'Start the command and return once it has read the file, without waiting for it to end'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l no-fifo -d 'Use a 0600 temporary file instead of a FIFO'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l ignore-mac -d 'Do not check the MAC'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand exec-file" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand completion" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand completion" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand keyservice" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l config -d 'Path of the .sops.yaml config (default: searched upwards from the working directory, then from the file); /dev/null means an empty config' -r -F
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l keyservice -d 'Remote key service (not supported by sopx: gives an error)' -r
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l verbose -d 'Print more about what is going on'
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l disable-version-check -d 'Accepted for sops compatibility; sopx never checks for updates'
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l check-for-updates -d 'Accepted for sops compatibility; sopx never contacts the network to check for updates, and says so'
complete -c sopx -n "__fish_sopx_using_subcommand publish" -l enable-local-keyservice -d 'Accepted for sops compatibility: sopx always uses its built-in (local) key service'
complete -c sopx -n "__fish_sopx_using_subcommand publish" -s h -l help -d 'Print help'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "encrypt" -d 'Encrypt a file; the result goes to stdout unless -i or --output'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "decrypt" -d 'Decrypt a file; the plaintext goes to stdout unless -i or --output'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "edit" -d 'Open a file in $SOPS_EDITOR/$EDITOR, re-encrypting it on save'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "set" -d 'Set one value of an encrypted file'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "unset" -d 'Remove one entry from an encrypted file'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "filestatus" -d 'Tell whether a file is encrypted, as JSON (`{"encrypted":true}`)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "rotate" -d 'Give a file a new data key (every value is re-encrypted), optionally adding or removing keys'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "updatekeys" -d 'Re-wrap files\' data keys for the keys `.sops.yaml` lists now (values keep their ciphertext)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "groups" -d 'Add or delete key groups'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "check" -d 'Fail if a file that a `.sops.yaml` path_regex rule covers is not encrypted (for pre-commit hooks)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "diff" -d 'Show a decrypted unified diff of two encrypted files (each a path, or REV:PATH for a git revision); exits 1 when they differ'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "merge" -d 'Git merge driver: merge OURS and THEIRS (changed from BASE) value by value, encrypted, into OURS (`sopx merge %O %A %B %P`)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "git" -d 'Git integration'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "exec-env" -d 'Run a command with the decrypted values in its environment'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "exec-file" -d 'Run a command with the decrypted file in a FIFO (or a 0600 temporary file); `{}` in the command is its path'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "completion" -d 'Print a shell completion script (bash, zsh, fish, powershell, elvish)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "keyservice" -d 'Not supported by sopx (sops\'s key service server): exits with an error'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "publish" -d 'Not supported by sopx (sops\'s publish to S3/GCS/Vault): exits with an error'
complete -c sopx -n "__fish_sopx_using_subcommand help; and not __fish_seen_subcommand_from encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "add" -d 'Add a key group made of the given keys'
complete -c sopx -n "__fish_sopx_using_subcommand help; and __fish_seen_subcommand_from groups" -f -a "delete" -d 'Delete the key group at INDEX (0-based)'
complete -c sopx -n "__fish_sopx_using_subcommand help; and __fish_seen_subcommand_from git" -f -a "setup" -d 'Configure git for sopx: .gitattributes lines for the encrypted files and the files .sops.yaml rules cover, and the merge driver and textconv in the repository\'s config (idempotent; prints what it changes)'
