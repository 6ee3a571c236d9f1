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
            sopx,check)
                cmd="sopx__subcmd__check"
                ;;
            sopx,completion)
                cmd="sopx__subcmd__completion"
                ;;
            sopx,decrypt)
                cmd="sopx__subcmd__decrypt"
                ;;
            sopx,diff)
                cmd="sopx__subcmd__diff"
                ;;
            sopx,edit)
                cmd="sopx__subcmd__edit"
                ;;
            sopx,encrypt)
                cmd="sopx__subcmd__encrypt"
                ;;
            sopx,exec-env)
                cmd="sopx__subcmd__exec__subcmd__env"
                ;;
            sopx,exec-file)
                cmd="sopx__subcmd__exec__subcmd__file"
                ;;
            sopx,filestatus)
                cmd="sopx__subcmd__filestatus"
                ;;
            sopx,git)
                cmd="sopx__subcmd__git"
                ;;
            sopx,groups)
                cmd="sopx__subcmd__groups"
                ;;
            sopx,help)
                cmd="sopx__subcmd__help"
                ;;
            sopx,keyservice)
                cmd="sopx__subcmd__keyservice"
                ;;
            sopx,merge)
                cmd="sopx__subcmd__merge"
                ;;
            sopx,publish)
                cmd="sopx__subcmd__publish"
                ;;
            sopx,rotate)
                cmd="sopx__subcmd__rotate"
                ;;
            sopx,set)
                cmd="sopx__subcmd__set"
                ;;
            sopx,unset)
                cmd="sopx__subcmd__unset"
                ;;
            sopx,updatekeys)
                cmd="sopx__subcmd__updatekeys"
                ;;
            sopx__subcmd__git,help)
                cmd="sopx__subcmd__git__subcmd__help"
                ;;
            sopx__subcmd__git,setup)
                cmd="sopx__subcmd__git__subcmd__setup"
                ;;
            sopx__subcmd__git__subcmd__help,help)
                cmd="sopx__subcmd__git__subcmd__help__subcmd__help"
                ;;
            sopx__subcmd__git__subcmd__help,setup)
                cmd="sopx__subcmd__git__subcmd__help__subcmd__setup"
                ;;
            sopx__subcmd__groups,add)
                cmd="sopx__subcmd__groups__subcmd__add"
                ;;
            sopx__subcmd__groups,delete)
                cmd="sopx__subcmd__groups__subcmd__delete"
                ;;
            sopx__subcmd__groups,help)
                cmd="sopx__subcmd__groups__subcmd__help"
                ;;
            sopx__subcmd__groups__subcmd__help,add)
                cmd="sopx__subcmd__groups__subcmd__help__subcmd__add"
                ;;
            sopx__subcmd__groups__subcmd__help,delete)
                cmd="sopx__subcmd__groups__subcmd__help__subcmd__delete"
                ;;
            sopx__subcmd__groups__subcmd__help,help)
                cmd="sopx__subcmd__groups__subcmd__help__subcmd__help"
                ;;
            sopx__subcmd__help,check)
                cmd="sopx__subcmd__help__subcmd__check"
                ;;
            sopx__subcmd__help,completion)
                cmd="sopx__subcmd__help__subcmd__completion"
                ;;
            sopx__subcmd__help,decrypt)
                cmd="sopx__subcmd__help__subcmd__decrypt"
                ;;
            sopx__subcmd__help,diff)
                cmd="sopx__subcmd__help__subcmd__diff"
                ;;
            sopx__subcmd__help,edit)
                cmd="sopx__subcmd__help__subcmd__edit"
                ;;
            sopx__subcmd__help,encrypt)
                cmd="sopx__subcmd__help__subcmd__encrypt"
                ;;
            sopx__subcmd__help,exec-env)
                cmd="sopx__subcmd__help__subcmd__exec__subcmd__env"
                ;;
            sopx__subcmd__help,exec-file)
                cmd="sopx__subcmd__help__subcmd__exec__subcmd__file"
                ;;
            sopx__subcmd__help,filestatus)
                cmd="sopx__subcmd__help__subcmd__filestatus"
                ;;
            sopx__subcmd__help,git)
                cmd="sopx__subcmd__help__subcmd__git"
                ;;
            sopx__subcmd__help,groups)
                cmd="sopx__subcmd__help__subcmd__groups"
                ;;
            sopx__subcmd__help,help)
                cmd="sopx__subcmd__help__subcmd__help"
                ;;
            sopx__subcmd__help,keyservice)
                cmd="sopx__subcmd__help__subcmd__keyservice"
                ;;
            sopx__subcmd__help,merge)
                cmd="sopx__subcmd__help__subcmd__merge"
                ;;
            sopx__subcmd__help,publish)
                cmd="sopx__subcmd__help__subcmd__publish"
                ;;
            sopx__subcmd__help,rotate)
                cmd="sopx__subcmd__help__subcmd__rotate"
                ;;
            sopx__subcmd__help,set)
                cmd="sopx__subcmd__help__subcmd__set"
                ;;
            sopx__subcmd__help,unset)
                cmd="sopx__subcmd__help__subcmd__unset"
                ;;
            sopx__subcmd__help,updatekeys)
                cmd="sopx__subcmd__help__subcmd__updatekeys"
                ;;
            sopx__subcmd__help__subcmd__git,setup)
                cmd="sopx__subcmd__help__subcmd__git__subcmd__setup"
                ;;
            sopx__subcmd__help__subcmd__groups,add)
                cmd="sopx__subcmd__help__subcmd__groups__subcmd__add"
                ;;
            sopx__subcmd__help__subcmd__groups,delete)
                cmd="sopx__subcmd__help__subcmd__groups__subcmd__delete"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        sopx)
            opts="-e -d -a -p -k -i -r -s -v -h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --encrypt --decrypt --age --pgp --kms --gcp-kms --hckms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --aws-profile --encryption-context --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --input-type --output-type --output --in-place --filename-override --extract --ignore-mac --decryption-order --rotate --add-age --rm-age --add-pgp --rm-pgp --add-kms --rm-kms --add-gcp-kms --rm-gcp-kms --add-hckms --rm-hckms --add-azure-kv --rm-azure-kv --add-hc-vault-transit --rm-hc-vault-transit --set --show-master-keys --version --indent --help encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
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
                --hckms)
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
                --aws-profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encryption-context)
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
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --extract)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-hckms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-hckms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --set)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --indent)
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
        sopx__subcmd__check)
            opts="-r -j -h --verify --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__completion)
            opts="-h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help bash elvish fish powershell zsh"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
            opts="-i -r -j -h --input-type --output-type --output --in-place --filename-override --extract --ignore-mac --decryption-order --output-dir --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --extract)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__diff)
            opts="-h --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
            opts="-a -p -k -i -s -h --age --pgp --kms --gcp-kms --hckms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --aws-profile --encryption-context --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --decryption-order --input-type --output-type --output --in-place --filename-override --ignore-mac --show-master-keys --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
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
                --hckms)
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
                --aws-profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encryption-context)
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
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --keyservice)
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
            opts="-a -p -k -i -r -j -h --age --pgp --kms --gcp-kms --hckms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --aws-profile --encryption-context --unencrypted-suffix --encrypted-suffix --unencrypted-regex --encrypted-regex --unencrypted-comment-regex --encrypted-comment-regex --mac-only-encrypted --input-type --output-type --output --in-place --filename-override --reuse --no-reuse --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
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
                --hckms)
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
                --aws-profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encryption-context)
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
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --reuse)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__exec__subcmd__env)
            opts="-h --background --pristine --user --same-process --extract --input-type --ignore-mac --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --extract)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__exec__subcmd__file)
            opts="-h --background --no-fifo --user --input-type --output-type --filename --ignore-mac --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --user)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --filename)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
            opts="-i -r -j -h --input-type --output-type --output --in-place --filename-override --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__git)
            opts="-h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help setup help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__git__subcmd__help)
            opts="setup help"
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
        sopx__subcmd__git__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__git__subcmd__help__subcmd__setup)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__git__subcmd__setup)
            opts="-h --global --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__groups)
            opts="-h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help add delete help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__groups__subcmd__add)
            opts="-f -i -h --file --age --pgp --kms --gcp-kms --hckms --azure-kv --hc-vault-transit --shamir-secret-sharing-threshold --aws-profile --encryption-context --in-place --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --hckms)
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
                --aws-profile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encryption-context)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__groups__subcmd__delete)
            opts="-f -i -h --file --shamir-secret-sharing-threshold --in-place --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 3 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -f)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shamir-secret-sharing-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__groups__subcmd__help)
            opts="add delete help"
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
        sopx__subcmd__groups__subcmd__help__subcmd__add)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__groups__subcmd__help__subcmd__delete)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__groups__subcmd__help__subcmd__help)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__help)
            opts="encrypt decrypt edit set unset filestatus rotate updatekeys groups check diff merge git exec-env exec-file completion keyservice publish help"
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
        sopx__subcmd__help__subcmd__check)
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
        sopx__subcmd__help__subcmd__completion)
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
        sopx__subcmd__help__subcmd__diff)
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
        sopx__subcmd__help__subcmd__exec__subcmd__env)
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
        sopx__subcmd__help__subcmd__exec__subcmd__file)
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
        sopx__subcmd__help__subcmd__git)
            opts="setup"
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
        sopx__subcmd__help__subcmd__git__subcmd__setup)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__help__subcmd__groups)
            opts="add delete"
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
        sopx__subcmd__help__subcmd__groups__subcmd__add)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__help__subcmd__groups__subcmd__delete)
            opts=""
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 4 ]] ; then
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
        sopx__subcmd__help__subcmd__keyservice)
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
        sopx__subcmd__help__subcmd__merge)
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
        sopx__subcmd__help__subcmd__publish)
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
        sopx__subcmd__help__subcmd__rotate)
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
        sopx__subcmd__help__subcmd__updatekeys)
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
        sopx__subcmd__keyservice)
            opts="-h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__merge)
            opts="-h --decryption-order --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__publish)
            opts="-h --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__rotate)
            opts="-i -r -j -h --add-age --rm-age --add-pgp --rm-pgp --add-kms --rm-kms --add-gcp-kms --rm-gcp-kms --add-hckms --rm-hckms --add-azure-kv --rm-azure-kv --add-hc-vault-transit --rm-hc-vault-transit --input-type --output-type --output --in-place --filename-override --decryption-order --ignore-mac --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --add-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-age)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-pgp)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-gcp-kms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-hckms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-hckms)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-azure-kv)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --add-hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --rm-hc-vault-transit)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
        sopx__subcmd__set)
            opts="-i -h --decryption-order --input-type --output-type --output --in-place --filename-override --ignore-mac --value-file --value-stdin --idempotent --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --keyservice)
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
            opts="-i -h --decryption-order --input-type --output-type --output --in-place --filename-override --ignore-mac --idempotent --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --output-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
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
                --keyservice)
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
        sopx__subcmd__updatekeys)
            opts="-y -r -j -h --yes --shamir-secret-sharing-threshold --input-type --decryption-order --recursive --jobs --config --verbose --disable-version-check --check-for-updates --enable-local-keyservice --keyservice --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --shamir-secret-sharing-threshold)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --input-type)
                    COMPREPLY=($(compgen -W "yaml json dotenv ini toml binary" -- "${cur}"))
                    return 0
                    ;;
                --decryption-order)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --recursive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -r)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --jobs)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -j)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --config)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keyservice)
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
