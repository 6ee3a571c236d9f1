_sopx() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="sopx"
                ;;
            sopx,decrypt)
                cmd="sopx__subcmd__decrypt"
                ;;
            sopx,edit)
                cmd="sopx__subcmd__edit"
                ;;
            sopx,encrypt)
                cmd="sopx__subcmd__encrypt"
                ;;
            sopx,filestatus)
                cmd="sopx__subcmd__filestatus"
                ;;
            sopx,help)
                cmd="sopx__subcmd__help"
                ;;
            sopx,set)
                cmd="sopx__subcmd__set"
                ;;
            sopx,unset)
                cmd="sopx__subcmd__unset"
                ;;
            sopx__subcmd__help,decrypt)
                cmd="sopx__subcmd__help__subcmd__decrypt"
                ;;
            sopx__subcmd__help,edit)
                cmd="sopx__subcmd__help__subcmd__edit"
                ;;
            sopx__subcmd__help,encrypt)
                cmd="sopx__subcmd__help__subcmd__encrypt"
                ;;
            sopx__subcmd__help,filestatus)
                cmd="sopx__subcmd__help__subcmd__filestatus"
                ;;
            sopx__subcmd__help,help)
                cmd="sopx__subcmd__help__subcmd__help"
                ;;
            sopx__subcmd__help,set)
                cmd="sopx__subcmd__help__subcmd__set"
                ;;
            sopx__subcmd__help,unset)
                cmd="sopx__subcmd__help__subcmd__unset"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        sopx)
            opts="-e -d -a -p -k -i -h -V --encrypt --decrypt --age --pgp --kms --gcp-kms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --input-type --output-type --output --in-place --filename-override --config --verbose --extract --ignore-mac --help --version encrypt decrypt edit set unset filestatus help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shamir-secret-sharing-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --extract)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__decrypt)
            opts="-i -h --input-type --output-type --output --in-place --filename-override --config --verbose --extract --ignore-mac --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --extract)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__edit)
            opts="-a -p -k -i -h --age --pgp --kms --gcp-kms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --input-type --output-type --output --in-place --filename-override --config --verbose --ignore-mac --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shamir-secret-sharing-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__encrypt)
            opts="-a -p -k -i -h --age --pgp --kms --gcp-kms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --input-type --output-type --output --in-place --filename-override --config --verbose --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -a)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -k)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shamir-secret-sharing-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-suffix)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --unencrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encrypted-comment-regex)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__filestatus)
            opts="-i -h --input-type --output-type --output --in-place --filename-override --config --verbose --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help)
            opts="encrypt decrypt edit set unset filestatus help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__decrypt)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__edit)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__encrypt)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__filestatus)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__set)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__help__subcmd__unset)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__set)
            opts="-i -h --input-type --output-type --output --in-place --filename-override --config --verbose --ignore-mac --value-file --value-stdin --idempotent --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        sopx__subcmd__unset)
            opts="-i -h --input-type --output-type --output --in-place --filename-override --config --verbose --ignore-mac --idempotent --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --filename-override)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _sopx -o nosort -o bashdefault -o default sopx
else
    complete -F _sopx -o bashdefault -o default sopx
fi
